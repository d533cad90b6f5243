package conformance

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

const (
	// stallWait is how long a call must have waited on a stalled backend
	// before the stall cases cancel it.
	stallWait = 100 * time.Millisecond
	// stallBudget is how soon after its context is cancelled a stalled call
	// must return.
	stallBudget = 3 * time.Second
)

// stalled makes p's call while Harness.Stall holds the backend, cancels its
// context once it has waited stallWait, and expects it back within
// stallBudget with an error wrapping context.Canceled: a request whose client
// went away must not hold a goroutine and a connection until the backend
// answers. Whether the cancelled call took effect is not checked (a write
// the backend already received may complete), but the store must work once
// the backend answers again.
func (s *suite) stalled(t *testing.T, st session.Store, p probe) {
	s.prepareProbes(t, st)
	if lacks(st, p.method) {
		t.Skipf("the store lacks %s", p.method)
	}
	release := s.h.Stall(t, st)
	released := false
	free := func() {
		if !released {
			released = true
			release()
		}
	}
	defer free()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- outcome{fault: fmt.Sprintf("panicked: %v", v)}
			}
		}()
		done <- outcome{err: p.call(ctx, st)}
	}()
	select {
	case o := <-done:
		free()
		if o.fault != "" {
			t.Fatalf("%s on a stalled backend %s", p.method, o.fault)
		}
		t.Skipf("%s returned (%v) within %v while the backend was stalled, before any cancellation: Harness.Stall does not hold it up, so a cancellation in flight is not checked", p.method, o.err, stallWait)
	case <-time.After(stallWait):
	}
	cancel()
	cancelled := time.Now()
	timer := time.NewTimer(stallBudget)
	defer timer.Stop()
	select {
	case o := <-done:
		switch {
		case o.fault != "":
			t.Errorf("%s, cancelled while the backend was stalled, %s", p.method, o.fault)
		case errors.Is(o.err, errCalledFn):
			t.Errorf("Iterate, cancelled while the backend was stalled, went on to call fn; want it to return the context's error")
		case !errors.Is(o.err, context.Canceled):
			t.Errorf("%s, cancelled after waiting %v on a stalled backend, returned %v after %v; want an error wrapping context.Canceled (the contract: every method returns promptly with the context's error once it is done)",
				p.method, stallWait, o.err, time.Since(cancelled).Round(time.Millisecond))
		}
	case <-timer.C:
		t.Errorf("%s, cancelled after waiting %v on a stalled backend, had not returned %v later; want it to return promptly with an error wrapping context.Canceled (the contract: every method returns promptly with the context's error once it is done, also while it waits on its backend)",
			p.method, stallWait, stallBudget)
		free()
		select { // give it the chance to end before the store is closed
		case <-done:
		case <-time.After(stallBudget):
		}
		return
	}
	free()
	// The store must serve calls again once its backend answers.
	if _, _, _, err := st.Load(t.Context(), "a"); err != nil {
		t.Errorf("Load after a cancelled %s and the stall's end: %v; want the store to work again", p.method, err)
	}
}

// lacks reports whether st lacks the capability method belongs to, without
// making a call that would reach the stalled backend.
func lacks(st session.Store, method string) bool {
	var ok bool
	switch method {
	case "Count":
		_, ok = st.(session.Counter)
	case "Prune":
		_, ok = st.(session.Pruner)
	case "Iterate":
		_, ok = st.(session.Iterator)
	case "LinkUser", "UnlinkUser", "UserSessions":
		_, ok = st.(session.UserIndex)
	case "Ping":
		_, ok = st.(session.Pinger)
	case "LoadVersion", "Insert", "Replace":
		_, ok = st.(session.ConditionalStore)
	default:
		ok = true
	}
	return !ok
}
