package gobcodec_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/gobcodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// childEnv names the case a child process encodes (see TestCycles).
const childEnv = "SESSIONKIT_GOB_CHILD"

func TestMain(m *testing.M) {
	if c := os.Getenv(childEnv); c != "" {
		encodeCase(c)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type node struct {
	Name string
	Next *node
}

type tree struct {
	Kids map[string]*tree
}

type pair struct {
	Left, Right *node
}

// cyclic returns the value of a named case; cyclic says whether it has a
// cycle.
func cycleCase(name string) (v any, cyclic bool) {
	switch name {
	case "self-pointer":
		n := &node{Name: "a"}
		n.Next = n
		return n, true
	case "two-nodes":
		a, b := &node{Name: "a"}, &node{Name: "b"}
		a.Next, b.Next = b, a
		return a, true
	case "struct-value-to-itself":
		n := node{Name: "a"}
		n.Next = &node{Name: "b", Next: &n}
		return n, true
	case "map-holds-itself":
		m := map[string]any{"x": 1}
		m["self"] = m
		return m, true
	case "slice-holds-itself":
		s := make([]any, 2)
		s[1] = s
		return s, true
	case "map-field-to-root":
		t := &tree{Kids: map[string]*tree{}}
		t.Kids["me"] = t
		return t, true
	case "deep-in-any":
		gob.Register(&node{})
		n := &node{Name: "a"}
		n.Next = n
		return map[string]any{"list": []any{map[string]any{"n": n}}}, true
	case "shared-not-cyclic":
		c := &node{Name: "c"}
		return pair{Left: c, Right: c}, false
	case "too-deep":
		var head *node
		for range 60_000 {
			head = &node{Next: head}
		}
		return head, false
	case "long-list":
		var head *node
		for i := range 40_000 {
			head = &node{Name: fmt.Sprint(i), Next: head}
		}
		return head, false
	}
	panic("unknown case " + name)
}

var cycleCases = []string{"self-pointer", "two-nodes", "struct-value-to-itself", "map-holds-itself",
	"slice-holds-itself", "map-field-to-root", "deep-in-any", "shared-not-cyclic", "long-list", "too-deep"}

// encodeCase puts a case's value into a session, commits it with the gob
// codec and prints the outcome.
func encodeCase(name string) {
	v, _ := cycleCase(name)
	ctx := context.Background()
	st := memstore.New()
	m, err := session.New(session.Config{Store: st, Codec: gobcodec.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("new:", err)
		return
	}
	s := m.Open(ctx, "")
	if err := s.Put("v", v); err != nil {
		fmt.Println("put error:", err)
		return
	}
	_, err = m.Commit(ctx, s)
	fmt.Printf("commit: %v\ncycle: %v\n", err, errors.Is(err, gobcodec.ErrCycle))
}

// TestCycles commits values with cycles (pointers, maps, slices) through the
// gob codec, each in a child process: encoding/gob recursed into them until
// the process died (fatal error: stack overflow, which no recover catches).
// Each is refused with an error wrapping ErrCycle; a value that shares a
// pointer without a cycle, and a list of 40,000 nodes, still encode; one
// nested deeper than gob should recurse is refused.
func TestCycles(t *testing.T) {
	for _, name := range cycleCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, cyclic := cycleCase(name)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+name)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				tail := stderr.String()
				if len(tail) > 1500 {
					tail = tail[:1500]
				}
				t.Fatalf("child died: %v\n%s", err, tail)
			}
			t.Log(string(bytes.TrimSpace(out)))
			want := fmt.Sprintf("cycle: %v\n", cyclic)
			if !bytes.Contains(out, []byte(want)) {
				t.Fatalf("child output %q; want %q", out, want)
			}
			if name == "too-deep" {
				if !bytes.Contains(out, []byte("levels deep")) {
					t.Fatalf("a value nested too deep was not refused: %q", out)
				}
				return
			}
			if !cyclic && !bytes.Contains(out, []byte("commit: <nil>\n")) {
				t.Fatalf("a value without a cycle failed to encode: %q", out)
			}
		})
	}
}
