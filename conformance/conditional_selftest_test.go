package conformance_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// The conditional and manager-races cases are checked against a memstore
// whose ConditionalStore breaks one promise at a time: each fault must fail
// the cases that guard that promise (and the fault-free store, in the
// conformance run of stores/memstore, passes them all).

const condFaultEnv = "SESSIONKIT_CONFORMANCE_COND_FAULT"

// condCaught lists, for each fault, cases that must fail.
var condCaught = map[string][]string{
	// Replace writes over any live record, whatever its version.
	"ignores-version": {"conditional/stale-after-save", "conditional/stale-after-replace",
		"conditional/concurrent-replace", "manager-races/distinct-keys", "manager-races/update-increments"},
	// Replace writes even when the record is gone.
	"resurrects": {"conditional/replace-after-delete", "conditional/replace-missing",
		"manager-races/revoke-vs-writer", "manager-races/destroy-vs-writer", "manager-races/renew-vs-writer"},
	// Insert overwrites a live record.
	"insert-overwrites": {"conditional/insert-existing", "conditional/concurrent-insert"},
}

// faultyCond is a memstore with one conditional fault.
type faultyCond struct {
	*memstore.Store
	fault string
}

func (f *faultyCond) Insert(ctx context.Context, id string, data []byte, exp time.Time) (bool, error) {
	if f.fault == "insert-overwrites" {
		return true, f.Store.Save(ctx, id, data, exp)
	}
	return f.Store.Insert(ctx, id, data, exp)
}

func (f *faultyCond) Replace(ctx context.Context, id string, data []byte, exp time.Time, ver []byte) error {
	switch f.fault {
	case "ignores-version":
		_, _, found, err := f.Store.Load(ctx, id)
		if err != nil || !found {
			return fmt.Errorf("%w (%v)", session.ErrNotFound, err)
		}
		return f.Store.Save(ctx, id, data, exp)
	case "resurrects":
		if _, _, found, _ := f.Store.Load(ctx, id); !found {
			return f.Store.Save(ctx, id, data, exp)
		}
	}
	return f.Store.Replace(ctx, id, data, exp, ver)
}

// TestConditionalFaulty runs the suite on the faulty store named by the
// environment; it is meant to fail, and runs only as the child of
// TestSuiteCatchesConditionalFaults.
func TestConditionalFaulty(t *testing.T) {
	fault := os.Getenv(condFaultEnv)
	if fault == "" {
		t.Skip("run by TestSuiteCatchesConditionalFaults")
	}
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store {
			s := memstore.New()
			t.Cleanup(func() { s.Close() })
			return &faultyCond{Store: s, fault: fault}
		},
	})
}

func TestSuiteCatchesConditionalFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	for fault, cases := range condCaught {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0],
				"-test.run=^TestConditionalFaulty$/^(conditional|manager-races)$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), condFaultEnv+"="+fault)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store whose Replace/Insert has fault %q:\n%s", fault, out)
			}
			for _, c := range cases {
				if !strings.Contains(string(out), "--- FAIL: TestConditionalFaulty/"+c+" ") {
					t.Errorf("fault %q: case %s did not fail", fault, c)
				}
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}
