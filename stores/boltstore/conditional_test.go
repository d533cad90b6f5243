package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// TestConditionalOpsInOneBatch commits, in one transaction, a refused
// Replace and a refused Insert beside a Save, an accepted Replace and a
// failing op: each learns its own outcome, the refused ones change nothing
// and fail no other op, and the batch is redone without the failing op with
// the same outcomes.
func TestConditionalOpsInOneBatch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	exp := time.Now().Add(time.Hour)
	for _, id := range []string{"stale", "fresh", "taken"} {
		if err := s.Save(ctx, id, []byte("old-"+id), exp); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(kind opKind, id, data string, ver []byte) *op {
		b := make([]byte, 8+len(id)+header+len(data), 8+len(id)+header+len(data)+len(ver)+4)
		putRecord(b, id, []byte(data), exp)
		if kind == opReplace {
			b = append(b, ver...)
			b = binary.BigEndian.AppendUint32(b, uint32(len(ver)))
		}
		o := &op{kind: kind, ctx: ctx, buf: b, n: len(id), done: make(chan error, 1)}
		o.state.Store(opClaimed)
		return o
	}
	ops := []*op{
		mk(opReplace, "stale", "new-stale", []byte("not what is stored")),
		mk(opSave, "saved", "new-saved", nil),
		mk(opKind(99), "bad", "x", nil),
		mk(opInsert, "taken", "new-taken", nil),
		mk(opReplace, "fresh", "new-fresh", []byte("old-fresh")),
		mk(opReplace, "gone", "new-gone", []byte("old-gone")),
		mk(opInsert, "inserted", "new-inserted", nil),
	}
	s.commit(nil, nil, ops)
	want := []error{session.ErrConflict, nil, errors.New("fails"), errTaken, nil, session.ErrNotFound, nil}
	for i, w := range want {
		err := <-ops[i].done
		switch {
		case w == nil && err != nil, w != nil && err == nil:
			t.Errorf("op %d: err = %v; want %v", i, err, w)
		case w != nil && i != 2 && !errors.Is(err, w):
			t.Errorf("op %d: err = %v; want %v", i, err, w)
		}
	}
	for id, want := range map[string]string{"stale": "old-stale", "saved": "new-saved", "taken": "old-taken", "fresh": "new-fresh", "inserted": "new-inserted"} {
		if d, _, found, _ := s.Load(ctx, id); !found || string(d) != want {
			t.Errorf("Load(%s) = %q, %v; want %q", id, d, found, want)
		}
	}
	if _, _, found, _ := s.Load(ctx, "gone"); found {
		t.Error("a Replace of a missing record created it")
	}
	checkIndex(t, s)
}
