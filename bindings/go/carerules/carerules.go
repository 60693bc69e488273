// Package carerules calls the carerules engine in-process through its C ABI
// (libcarerules.so.0, include/carerules/c_api.h).
//
//	rs, err := carerules.Compile("rulesets/institution.rules", "")
//	if err != nil { log.Fatal(err) }        // a *CompileError lists every diagnostic
//	defer rs.Close()
//	report, err := rs.Evaluate(factsJSON, `{"asof": "2024-06-01"}`)
//
// A Ruleset is immutable and safe for concurrent use by many goroutines.
//
// Build with CGO_CFLAGS pointing at the installed headers and CGO_LDFLAGS at the library,
// for example from pkg-config: CGO_CFLAGS="$(pkg-config --cflags carerules)"
// CGO_LDFLAGS="$(pkg-config --libs carerules)".
package carerules

/*
#cgo LDFLAGS: -lcarerules
#include <stdlib.h>
#include <carerules/c_api.h>
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Diagnostic is one message of the compiler.
type Diagnostic struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", d.File, d.Line, d.Column, d.Severity, d.Message)
}

// CompileError is a ruleset that does not compile.
type CompileError struct {
	Message     string
	Diagnostics []Diagnostic
}

func (e *CompileError) Error() string {
	var b strings.Builder
	for i, d := range e.Diagnostics {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(d.String())
	}
	if b.Len() == 0 {
		return e.Message
	}
	return b.String()
}

// Error is any other refusal of the engine: a bad argument or option (Status "usage_error"),
// an unreadable file ("io_error"), a limit ("limit"), an internal fault ("internal").
type Error struct {
	Status  string
	Message string
}

func (e *Error) Error() string { return "carerules: " + e.Status + ": " + e.Message }

type statusJSON struct {
	Status      string       `json:"status"`
	Message     string       `json:"message"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

// take copies a string the library returned and frees it.
func take(p *C.char) string {
	if p == nil {
		return ""
	}
	defer C.cr_string_free(p)
	return C.GoString(p)
}

func failure(status C.cr_status, text string) error {
	var s statusJSON
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return &Error{Status: "internal", Message: text}
	}
	if status == C.CR_COMPILE_ERROR {
		return &CompileError{Message: s.Message, Diagnostics: s.Diagnostics}
	}
	return &Error{Status: s.Status, Message: s.Message}
}

// Ruleset is a compiled ruleset.
type Ruleset struct {
	mu sync.RWMutex
	rs *C.cr_ruleset
}

// EngineVersion is "carerules X.Y.Z".
func EngineVersion() string { return C.GoString(C.cr_engine_version()) }

func cstring(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

func made(status C.cr_status, rs *C.cr_ruleset, diags *C.char) (*Ruleset, error) {
	text := take(diags)
	if status != C.CR_OK {
		return nil, failure(status, text)
	}
	r := &Ruleset{rs: rs}
	runtime.SetFinalizer(r, (*Ruleset).Close)
	return r, nil
}

// Compile compiles a ruleset file and its imports. options is "" or
// {"import_roots": [...], "limits": {...}}.
func Compile(path, options string) (*Ruleset, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	copts := cstring(options)
	defer C.free(unsafe.Pointer(copts))
	var rs *C.cr_ruleset
	var diags *C.char
	status := C.cr_compile_file(cpath, copts, &rs, &diags)
	return made(status, rs, diags)
}

// CompileText compiles ruleset text; name is what diagnostics show.
func CompileText(text, name, options string) (*Ruleset, error) {
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	cname := cstring(name)
	defer C.free(unsafe.Pointer(cname))
	copts := cstring(options)
	defer C.free(unsafe.Pointer(copts))
	var rs *C.cr_ruleset
	var diags *C.char
	status := C.cr_compile_text(ctext, C.size_t(len(text)), cname, copts, &rs, &diags)
	return made(status, rs, diags)
}

type call func(rs *C.cr_ruleset, in *C.char, n C.size_t, opts *C.char, out **C.char) C.cr_status

func (r *Ruleset) run(f call, input []byte, options string) (string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.rs == nil {
		return "", &Error{Status: "usage_error", Message: "the ruleset is closed"}
	}
	var in *C.char
	if len(input) > 0 {
		in = (*C.char)(C.CBytes(input))
		defer C.free(unsafe.Pointer(in))
	}
	copts := cstring(options)
	defer C.free(unsafe.Pointer(copts))
	var out *C.char
	status := f(r.rs, in, C.size_t(len(input)), copts, &out)
	text := take(out)
	if status != C.CR_OK {
		return "", failure(status, text)
	}
	return text, nil
}

// Evaluate evaluates one record (JSON) and returns its report (JSON). options is "" or
// {"asof": "YYYY-MM-DD", "subject": "path", "each": "path"}. Facts that are not valid JSON
// give a report whose "errors" say so, not an error.
func (r *Ruleset) Evaluate(facts []byte, options string) (string, error) {
	return r.run(func(rs *C.cr_ruleset, in *C.char, n C.size_t, o *C.char, out **C.char) C.cr_status {
		return C.cr_evaluate(rs, in, n, o, out)
	}, facts, options)
}

// EvaluateBatch takes JSON lines and returns one report line per non-blank input line.
func (r *Ruleset) EvaluateBatch(jsonl []byte, options string) (string, error) {
	return r.run(func(rs *C.cr_ruleset, in *C.char, n C.size_t, o *C.char, out **C.char) C.cr_status {
		return C.cr_evaluate_batch(rs, in, n, o, out)
	}, jsonl, options)
}

// Info returns name, version, digest, files (each with its own identity), inputs, hazards,
// scores and grades as JSON.
func (r *Ruleset) Info() (string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.rs == nil {
		return "", &Error{Status: "usage_error", Message: "the ruleset is closed"}
	}
	var out *C.char
	status := C.cr_ruleset_info(r.rs, &out)
	text := take(out)
	if status != C.CR_OK {
		return "", failure(status, text)
	}
	return text, nil
}

// Close frees the ruleset; later calls return an error. Closing twice is harmless.
func (r *Ruleset) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rs != nil {
		C.cr_ruleset_free(r.rs)
		r.rs = nil
	}
}
