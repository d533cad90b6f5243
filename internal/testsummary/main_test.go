package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFilter runs go test -json on a small module of its own with a
// passing, a skipped and a failing test and a benchmark, and checks the
// plain view and the summary line.
func TestFilter(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module demo\n\ngo 1.22\n",
		"demo_test.go": `package demo

import "testing"

func TestPass(t *testing.T) { t.Log("quiet when passing") }
func TestNoServer(t *testing.T) { t.Skip("Redis not reachable; start it") }
func TestNoServerEither(t *testing.T) { t.Skip("Redis not reachable; start it") }
func TestParent(t *testing.T) {
	t.Run("cap", func(t *testing.T) { t.Skipf("store has no %s", "Counter") })
	t.Run("bad", func(t *testing.T) { t.Error("boom") })
}
func BenchmarkLoop(b *testing.B) { for b.Loop() {} }
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-json", "-bench", "Loop", "-benchtime", "1x", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	js, err := cmd.Output()
	if err == nil {
		t.Fatal("go test passed a failing test")
	}
	var out strings.Builder
	if err := filter(strings.NewReader("not json\n"+string(js)), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"not json\n",
		"--- FAIL: TestParent/bad",
		"boom",
		"FAIL\tdemo\t",
		`skipped: 3 tests: 2× "Redis not reachable; start it"; 1× "store has no Counter"` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"quiet when passing", "=== RUN", "--- SKIP", "PASS\n"} {
		if strings.Contains(got, not) {
			t.Errorf("output shows %q:\n%s", not, got)
		}
	}
	if !strings.HasSuffix(got, "\"store has no Counter\"\n") {
		t.Errorf("the summary is not the last line:\n%s", got)
	}
}

func TestSummary(t *testing.T) {
	if got := summary(0, nil); got != "skipped: none" {
		t.Errorf("summary = %q", got)
	}
	got := summary(6, map[string]int{
		"the store does not implement session.Pruner":       3,
		"Harness.Reopen is nil; persistence is not checked": 1,
		"Chromium not found; install it":                    2,
	})
	want := `skipped: 6 tests: 4× a capability the store under test does not have; 2× "Chromium not found; install it"`
	if got != want {
		t.Errorf("summary =\n%s\nwant\n%s", got, want)
	}
}
