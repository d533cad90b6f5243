// Command testsummary reads `go test -json` on stdin and writes what plain
// `go test` would show (each package's result line, the output of failed
// tests, build errors, benchmark results), then one line that counts the
// skipped tests and gives their reasons, most frequent first, with the
// conformance suite's skips for capabilities a store does not have counted
// as one group. scripts/test runs every module's tests through it, so that a
// skip (a server that was not reachable, a browser that is not installed) is
// seen, not buried.
//
// Lines that are not JSON pass through unchanged. The exit status is 0
// unless stdin cannot be read; the caller takes the tests' result from go
// test itself.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	if err := filter(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
}

// event is one record of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type testKey struct{ pkg, test string }

// filter copies the plain view of the events on r to w and ends with the
// summary line.
func filter(r io.Reader, w io.Writer) error {
	out := bufio.NewWriter(w)
	defer out.Flush()
	buffered := map[testKey][]string{}
	reasons := map[string]int{}
	skipped := 0

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
			out.Write(line)
			out.WriteByte('\n')
			continue
		}
		switch {
		case e.Action == "build-output":
			out.WriteString(e.Output)
		case e.Test == "":
			// The package's own lines: "ok", "FAIL", panics after the
			// tests, benchmark headers. Plain go test prints no PASS line.
			if e.Action == "output" && e.Output != "PASS\n" {
				out.WriteString(e.Output)
			}
			if e.Action == "pass" || e.Action == "fail" || e.Action == "skip" {
				out.Flush()
			}
		case strings.HasPrefix(e.Test, "Benchmark"):
			if e.Action == "output" && !strings.HasPrefix(e.Output, "=== ") {
				out.WriteString(e.Output)
			}
		default:
			k := testKey{e.Package, e.Test}
			switch e.Action {
			case "output":
				// Plain go test shows no === RUN, PAUSE or CONT lines.
				if !strings.HasPrefix(e.Output, "=== ") {
					buffered[k] = append(buffered[k], e.Output)
				}
			case "fail":
				for _, s := range buffered[k] {
					out.WriteString(s)
				}
				delete(buffered, k)
			case "skip":
				skipped++
				reasons[reason(buffered[k])]++
				delete(buffered, k)
			case "pass":
				delete(buffered, k)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintln(out, summary(skipped, reasons))
	return nil
}

// location is the file:line prefix that testing puts before a message.
var location = regexp.MustCompile(`^\s*[\w./-]+\.go:\d+: `)

// reason is the message of a skipped test, from its output lines.
func reason(lines []string) string {
	var msg []string
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "--- SKIP") {
			continue
		}
		if l = strings.TrimSpace(location.ReplaceAllString(l, "")); l != "" {
			msg = append(msg, l)
		}
	}
	if len(msg) == 0 {
		return "no reason given"
	}
	return strings.Join(msg, " ")
}

// capability matches the conformance suite's skips for what a store does
// not offer (an optional capability, persistence, a backend it can stall or
// a call the stall does not hold up, binary payloads). They are
// expected by design, so the summary counts them as one group and names
// every other reason, where a missing server or tool shows up.
var capability = regexp.MustCompile(`does not implement|capability absent|^the store lacks|Harness.(Reopen|Stall) is nil|Harness.Stall does not hold it up|^JSONOnly store`)

// summary is the one line about skips: how many, and why.
func summary(n int, reasons map[string]int) string {
	if n == 0 {
		return "skipped: none"
	}
	type rc struct {
		r string
		n int
	}
	var rs []rc
	capabilities := 0
	for r, c := range reasons {
		if capability.MatchString(r) {
			capabilities += c
			continue
		}
		rs = append(rs, rc{r, c})
	}
	slices.SortFunc(rs, func(a, b rc) int {
		return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.r, b.r))
	})
	var parts []string
	if capabilities > 0 {
		parts = append(parts, fmt.Sprintf("%d× a capability the store under test does not have", capabilities))
	}
	for _, x := range rs {
		r := x.r
		if len(r) > 100 {
			r = r[:97] + "..."
		}
		parts = append(parts, fmt.Sprintf("%d× %q", x.n, r))
	}
	tests := "tests"
	if n == 1 {
		tests = "test"
	}
	return fmt.Sprintf("skipped: %d %s: %s", n, tests, strings.Join(parts, "; "))
}
