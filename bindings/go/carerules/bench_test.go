package carerules

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkEvaluate: one record of the shipped bundle through cgo (bench/abi/run.sh).
func BenchmarkEvaluate(b *testing.B) {
	src := os.Getenv("CARERULES_SOURCE_DIR")
	rs, err := Compile(filepath.Join(src, "rulesets/institution.rules"), "")
	if err != nil {
		b.Fatal(err)
	}
	defer rs.Close()
	facts, _ := os.ReadFile(filepath.Join(src, "examples/data/cases/case2_dangerous_building.json"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := rs.Evaluate(facts, `{"asof": "2024-06-01"}`); err != nil {
			b.Fatal(err)
		}
	}
}
