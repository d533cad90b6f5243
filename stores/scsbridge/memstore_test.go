package scsbridge_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/scsbridge"
)

// The conformance suite runs on scs's memstore twice: through Adapt, and
// through naive, the one-to-one mapping a bridge without Adapt's header,
// copies and context checks would be. The second run shows what memstore
// cannot do by itself and so why Adapt does each thing.
//
// outcomes lists, per run, every case (area/case) or whole area that does
// not pass: "skip" or "fail", with why, or "racy" when it fails only if a
// race happens in that run. Every case not listed must pass; a
// case that changes outcome fails TestMemstore until the table is updated.
// The package documentation summarizes the same table.
var outcomes = map[string]map[string]string{
	"adapt": {
		"counter":                    "skip: scs stores cannot count",
		"pruner":                     "skip: scs has no Prune; memstore prunes in its own goroutine",
		"userindex":                  "skip: scs has no user index",
		"pinger":                     "skip: scs has no health check",
		"closer":                     "skip: memstore has StopCleanup, not Close",
		"persist":                    "skip: memstore keeps nothing across a restart",
		"stall":                      "skip: memstore has no backend to stall",
		"cancel/count":               "skip: no Counter",
		"cancel/prune":               "skip: no Pruner",
		"cancel/link-user":           "skip: no UserIndex",
		"cancel/unlink-user":         "skip: no UserIndex",
		"cancel/user-sessions":       "skip: no UserIndex",
		"cancel/ping":                "skip: no Pinger",
		"manager/revoke-user":        "skip: no UserIndex",
		"manager/revoke-after-touch": "skip: no UserIndex",
	},
	"naive": {
		"basic/round-trip":               noExpiry,
		"basic/overwrite":                noExpiry,
		"basic/touch-keeps-data":         noExpiry,
		"basic/isolation":                noExpiry,
		"expiry/honoured":                noExpiry,
		"expiry/touch-extends":           noExpiry,
		"expiry/touch-shortens":          noExpiry,
		"expiry/overwrite-longer":        noExpiry,
		"expiry/overwrite-shorter":       noExpiry,
		"expiry/far-future":              noExpiry,
		"expiry/minutes":                 noExpiry,
		"payload":                        noExpiry,
		"ids":                            noExpiry,
		"concurrency/distinct-ids":       noExpiry,
		"concurrency/one-id":             noExpiry,
		"cancel/load":                    noContext,
		"cancel/save":                    noContext,
		"cancel/touch":                   noContext,
		"cancel/delete":                  noContext,
		"cancel/count":                   "skip: no Counter",
		"cancel/prune":                   "skip: no Pruner",
		"cancel/iterate":                 "skip: no Iterator in the naive mapping",
		"cancel/link-user":               "skip: no UserIndex",
		"cancel/unlink-user":             "skip: no UserIndex",
		"cancel/user-sessions":           "skip: no UserIndex",
		"cancel/ping":                    "skip: no Pinger",
		"concurrency/touch-vs-save":      touchRace,
		"concurrency/touch-vs-delete":    touchRace,
		"manager/unmodified-not-written": touchesAlways,
		"manager/throttled-touch":        touchesAlways,
		"manager/revoke-user":            "skip: no UserIndex",
		"manager/revoke-after-touch":     "skip: no UserIndex",
		"counter":                        "skip: scs stores cannot count",
		"pruner":                         "skip: scs has no Prune",
		"iterator":                       "skip: no Iterator in the naive mapping",
		"userindex":                      "skip: scs has no user index",
		"pinger":                         "skip: scs has no health check",
		"closer":                         "skip: memstore has StopCleanup, not Close",
		"persist":                        "skip: memstore keeps nothing across a restart",
		"stall":                          "skip: memstore has no backend to stall",
	},
}

const (
	noExpiry      = "fail: Find returns no expiry, so Load reports none"
	noContext     = "fail: memstore takes no context, so a cancelled call goes ahead"
	touchesAlways = "fail: with no stored expiry, the Manager touches on every request"
	// touchRace is an outcome that depends on timing: memstore answers so
	// fast that a race may not happen in a given run.
	touchRace = "racy: Touch is Find then Commit, so a Touch racing a Save writes old data back and one racing a Delete revives the record"
)

const memstoreEnv = "SCSBRIDGE_MEMSTORE_SUITE"

// TestMemstoreSuite is the conformance suite on scs's memstore. It is run
// by TestMemstore in a child process, since some of its cases fail.
func TestMemstoreSuite(t *testing.T) {
	if os.Getenv(memstoreEnv) == "" {
		t.Skip("run by TestMemstore")
	}
	t.Run("adapt", func(t *testing.T) {
		t.Parallel()
		conformance.Run(t, conformance.Harness{
			New: func(t *testing.T) session.Store { return scsbridge.Adapt(newMemstore(t)) },
		})
	})
	t.Run("naive", func(t *testing.T) {
		t.Parallel()
		conformance.Run(t, conformance.Harness{
			New: func(t *testing.T) session.Store { return naive{newMemstore(t)} },
		})
	})
}

// TestMemstore runs TestMemstoreSuite and checks the outcome of every case
// against the outcomes table, so that CI proves both what passes and what
// does not.
func TestMemstore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test process")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMemstoreSuite$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), memstoreEnv+"=1")
	out, _ := cmd.CombinedOutput() // failures are expected; the outcomes are checked below
	got := results(out)
	for run, table := range outcomes {
		if len(got[run]) == 0 {
			t.Fatalf("the %s run reported no cases:\n%s", run, out)
		}
		var report strings.Builder
		for _, name := range slices.Sorted(maps.Keys(got[run])) {
			want, why, _ := strings.Cut(expected(table, name), ": ")
			if want == "" {
				want = "pass"
			}
			res := got[run][name]
			fmt.Fprintf(&report, "%-32s %-4s %s\n", name, res, why)
			switch {
			case res == want:
			case want == "racy" && res != "skip":
			case res == "skip" && want != "skip":
				// The suite skips a timed case when the machine is too
				// slow to tell; that proves nothing either way.
				t.Logf("%s: conformance/%s skipped; the table says %s", run, name, want)
			default:
				t.Errorf("%s: conformance/%s: %s; the table says %s", run, name, res, want)
			}
		}
		for name := range table {
			if !slices.ContainsFunc(slices.Collect(maps.Keys(got[run])), func(g string) bool {
				return g == name || strings.HasPrefix(g, name+"/")
			}) {
				t.Errorf("%s: conformance/%s is in the table but the suite did not report it", run, name)
			}
		}
		t.Logf("scs memstore, %s:\n%s", run, report.String())
	}
	if t.Failed() {
		t.Logf("suite output:\n%s", out)
	}
}

// expected returns the table's entry for a case, or for its area.
func expected(table map[string]string, name string) string {
	if e, ok := table[name]; ok {
		return e
	}
	area, _, _ := strings.Cut(name, "/")
	return table[area]
}

var resultLine = regexp.MustCompile(`(?m)^\s*--- (PASS|FAIL|SKIP): TestMemstoreSuite/(\w+)/(\S+)`)

// results maps each run to its cases (area/case), and to its areas skipped
// before their cases ran, each with "pass", "fail" or "skip".
func results(out []byte) map[string]map[string]string {
	all := map[string]map[string]string{}
	for _, m := range resultLine.FindAllSubmatch(out, -1) {
		run := string(m[2])
		if all[run] == nil {
			all[run] = map[string]string{}
		}
		all[run][string(m[3])] = strings.ToLower(string(m[1]))
	}
	leaves := map[string]map[string]string{}
	for run, names := range all {
		leaves[run] = map[string]string{}
		for name, res := range names {
			if strings.Contains(name, "/") || !slices.ContainsFunc(slices.Collect(maps.Keys(names)), func(o string) bool {
				return strings.HasPrefix(o, name+"/")
			}) {
				leaves[run][name] = res
			}
		}
	}
	return leaves
}

// naive maps the session.Store methods one to one onto an scs store: no
// expiry header (Load reports no expiry), no copies, no context checks.
type naive struct{ s scs.Store }

func (n naive) Load(_ context.Context, id string) ([]byte, time.Time, bool, error) {
	b, found, err := n.s.Find(id)
	return b, time.Time{}, found, err
}

func (n naive) Save(_ context.Context, id string, data []byte, exp time.Time) error {
	return n.s.Commit(id, data, exp)
}

func (n naive) Touch(_ context.Context, id string, exp time.Time) error {
	b, found, err := n.s.Find(id)
	if err != nil || !found {
		return err
	}
	return n.s.Commit(id, b, exp)
}

func (n naive) Delete(_ context.Context, id string) error { return n.s.Delete(id) }
