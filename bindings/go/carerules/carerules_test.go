package carerules

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// CARERULES_SOURCE_DIR and CARERULES_BIN are set by ctest.
func sourceDir(t *testing.T) string {
	d := os.Getenv("CARERULES_SOURCE_DIR")
	if d == "" {
		t.Fatal("CARERULES_SOURCE_DIR is not set")
	}
	return d
}

const asof = `{"asof": "2024-06-01"}`

type report struct {
	Subject *string `json:"subject"`
	Hazards []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"hazards"`
	Grades map[string]struct {
		Value string `json:"value"`
	} `json:"grades"`
	Errors []json.RawMessage `json:"errors"`
}

func decisions(t *testing.T, text string) map[string]string {
	var r report
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("not a report: %v: %s", err, text)
	}
	out := map[string]string{}
	for _, h := range r.Hazards {
		out["hazard "+h.ID] = h.Status
	}
	for name, g := range r.Grades {
		out["grade "+name] = g.Value
	}
	return out
}

func cases(t *testing.T) []string {
	files, _ := filepath.Glob(filepath.Join(sourceDir(t), "examples/data/cases/*.json"))
	sort.Strings(files)
	if len(files) < 5 {
		t.Fatalf("sample cases: %v", files)
	}
	return files
}

func TestSameDecisionsAsTheCLI(t *testing.T) {
	bundle := filepath.Join(sourceDir(t), "rulesets/institution.rules")
	rs, err := Compile(bundle, "")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	want := map[string]map[string]string{}
	for _, c := range cases(t) {
		cli, err := exec.Command(os.Getenv("CARERULES_BIN"), "eval", "-r", bundle, c, "--asof", "2024-06-01").Output()
		if err != nil && len(cli) == 0 {
			t.Fatalf("CLI on %s: %v", c, err)
		}
		facts, _ := os.ReadFile(c)
		got, err := rs.Evaluate(facts, asof)
		if err != nil {
			t.Fatal(err)
		}
		want[c] = decisions(t, string(cli))
		if len(want[c]) == 0 || !reflect.DeepEqual(want[c], decisions(t, got)) {
			t.Errorf("%s: CLI %v, Go %v", c, want[c], decisions(t, got))
		}
	}

	// 8 goroutines share the ruleset.
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 25; round++ {
				for _, c := range cases(t) {
					facts, _ := os.ReadFile(c)
					got, err := rs.Evaluate(facts, asof)
					if err != nil || !reflect.DeepEqual(want[c], decisions(t, got)) {
						mu.Lock()
						bad++
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	if bad != 0 {
		t.Errorf("%d evaluations from goroutines differed from the CLI", bad)
	}

	info, err := rs.Info()
	if err != nil || !strings.Contains(info, `"name":"mca_major_hazards_2023"`) {
		t.Errorf("info: %v %s", err, info)
	}
}

func TestACompileErrorCarriesItsDiagnostics(t *testing.T) {
	_, err := CompileText("ruleset x {\n  title \"t\"\n  version \"1\"\n  let a = b +\n}\n", "broken.rules", "")
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *CompileError, got %v", err)
	}
	d := ce.Diagnostics[0]
	if d.File != "broken.rules" || d.Line != 5 || d.Severity != "error" || d.Message == "" {
		t.Errorf("diagnostic %+v", d)
	}
	_, err = Compile("/nonexistent.rules", "")
	var e *Error
	if !errors.As(err, &e) || e.Status != "io_error" {
		t.Errorf("missing file: %v", err)
	}
}

func TestABadRecordIsItsOwnReport(t *testing.T) {
	rs, err := CompileText("ruleset y {\n title \"t\"\n version \"1\"\n input { beds : int }\n"+
		" hazard H1 \"big\" { cite \"c\" when beds > 100 }\n}\n", "y.rules", "")
	if err != nil {
		t.Fatal(err)
	}
	text, err := rs.Evaluate([]byte(`{"beds": `), asof)
	if err != nil {
		t.Fatal(err)
	}
	var r report
	json.Unmarshal([]byte(text), &r)
	if r.Subject != nil || len(r.Errors) == 0 {
		t.Errorf("bad JSON: %s", text)
	}
	lines, err := rs.EvaluateBatch([]byte("{\"id\": \"a\", \"beds\": 200}\n\n{\"id\": \"b\"}\n"), asof)
	if err != nil || strings.Count(lines, "\n") != 2 || !strings.Contains(lines, `"status":"present"`) {
		t.Errorf("batch: %v %s", err, lines)
	}
	if _, err := rs.Evaluate([]byte(`{}`), `{"asof": "yesterday"}`); err == nil {
		t.Error("a bad asof must be an error")
	}
	rs.Close()
	rs.Close()
	if _, err := rs.Evaluate([]byte(`{}`), asof); err == nil {
		t.Error("a closed ruleset must refuse")
	}
	if !strings.HasPrefix(EngineVersion(), "carerules ") {
		t.Error(EngineVersion())
	}
}
