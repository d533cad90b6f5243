package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

const (
	// slack covers the scheduling delay between a deadline and the call
	// that checks it.
	slack = 10 * time.Millisecond
	// hangLimit is how long a call in the cancel and closer cases, which
	// must return at once, may take before the suite reports it as hung.
	hangLimit = 3 * time.Second
)

// later is an expiry far enough ahead that no case sees it pass.
func later() time.Time { return time.Now().Add(time.Hour) }

// past is an expiry that the store must treat as passed, even after rounding
// it up by one granularity.
func (s *suite) past() time.Time { return time.Now().Add(-s.gran - slack) }

// data returns a small payload naming tag, in a form the store accepts.
func (s *suite) data(tag string) []byte {
	if s.h.JSONOnly {
		b, _ := json.Marshal(map[string]any{"cookie": map[string]any{}, "k": tag})
		return b
	}
	return []byte("data:" + tag)
}

// sized returns a payload of n bytes derived from tag: random bytes, or for a
// JSONOnly store a JSON object padded with letters (never smaller than
// data(tag)).
func (s *suite) sized(tag string, n int) []byte {
	rng := rand.NewChaCha8(sha256.Sum256([]byte(tag)))
	if !s.h.JSONOnly {
		b := make([]byte, n)
		_, _ = rng.Read(b)
		return b
	}
	head := s.data(tag)
	const field = `,"p":"`
	pad := n - len(head) - len(field) - 1
	if pad < 0 { // too small for the field: pad with spaces
		return slices.Insert(head, len(head)-1, bytes.Repeat([]byte(" "), max(0, n-len(head)))...)
	}
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	b := make([]byte, n)
	i := copy(b, head[:len(head)-1])
	i += copy(b[i:], field)
	letterRun := b[i : i+pad]
	_, _ = rng.Read(letterRun)
	for j, c := range letterRun {
		letterRun[j] = letters[c%64]
	}
	copy(b[i+pad:], `"}`)
	return b
}

// same reports whether a loaded payload equals the one saved; a JSONOnly
// store may reformat JSON, so there equal JSON values suffice.
func (s *suite) same(got, want []byte) bool {
	if bytes.Equal(got, want) {
		return true
	}
	if !s.h.JSONOnly {
		return false
	}
	var g, w any
	return json.Unmarshal(got, &g) == nil && json.Unmarshal(want, &w) == nil && reflect.DeepEqual(g, w)
}

// near reports whether got is within one granularity of want.
func (s *suite) near(got, want time.Time) bool {
	d := got.Sub(want)
	return d <= s.gran && d >= -s.gran
}

// show describes a payload for a failure message without dumping it.
func show(b []byte) string {
	if len(b) <= 48 {
		return fmt.Sprintf("%q", b)
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes starting %q, sha256 %x", len(b), b[:16], sum[:6])
}

// showID quotes an ID, shortening a long one.
func showID(id string) string {
	if len(id) <= 40 {
		return fmt.Sprintf("%q", id)
	}
	return fmt.Sprintf("%q… (%d bytes)", id[:32], len(id))
}

func showIDs(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = showID(id)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// showExp describes an expiry relative to now.
func showExp(exp time.Time) string {
	if exp.IsZero() {
		return "the zero time"
	}
	d := time.Until(exp).Round(time.Millisecond)
	if d < 0 {
		return fmt.Sprintf("%v ago", -d)
	}
	return fmt.Sprintf("in %v", d)
}

// sameSet reports whether got holds exactly the strings in want, ignoring
// order and repeats.
func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(slices.Compact(g), slices.Compact(w))
}

func (s *suite) save(t *testing.T, st session.Store, id string, data []byte, exp time.Time) {
	t.Helper()
	if err := st.Save(t.Context(), id, data, exp); err != nil {
		t.Fatalf("Save(%s, %s, expiring %s): %v", showID(id), show(data), showExp(exp), err)
	}
}

func (s *suite) touch(t *testing.T, st session.Store, id string, exp time.Time) {
	t.Helper()
	if err := st.Touch(t.Context(), id, exp); err != nil {
		t.Fatalf("Touch(%s, %s): %v", showID(id), showExp(exp), err)
	}
}

func (s *suite) del(t *testing.T, st session.Store, id string) {
	t.Helper()
	if err := st.Delete(t.Context(), id); err != nil {
		t.Fatalf("Delete(%s): %v", showID(id), err)
	}
}

func (s *suite) load(t *testing.T, st session.Store, id string) ([]byte, time.Time, bool) {
	t.Helper()
	data, exp, found, err := st.Load(t.Context(), id)
	if err != nil {
		t.Fatalf("Load(%s): %v", showID(id), err)
	}
	return data, exp, found
}

// checkRecord loads id and describes how it differs from want expiring at
// exp; a zero exp skips the expiry check. It is safe from any goroutine.
func (s *suite) checkRecord(ctx context.Context, st session.Store, id string, want []byte, exp time.Time) error {
	got, gotExp, found, err := st.Load(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("Load(%s): %v", showID(id), err)
	case !found:
		return fmt.Errorf("Load(%s) found nothing; want %s", showID(id), show(want))
	case !s.same(got, want):
		return fmt.Errorf("Load(%s) = %s; want %s", showID(id), show(got), show(want))
	case !exp.IsZero() && !s.near(gotExp, exp):
		return fmt.Errorf("Load(%s) reports expiry %s; want %s (within %v)", showID(id), showExp(gotExp), showExp(exp), s.gran)
	}
	return nil
}

// wantRecord fails the case unless id holds want expiring at exp (zero: any
// expiry); when says what happened before, for the message.
func (s *suite) wantRecord(t *testing.T, st session.Store, id string, want []byte, exp time.Time, when string) {
	t.Helper()
	if err := s.checkRecord(t.Context(), st, id, want, exp); err != nil {
		t.Fatalf("%s: %v", when, err)
	}
}

func (s *suite) wantMissing(t *testing.T, st session.Store, id string, when string) {
	t.Helper()
	if got, exp, found := s.load(t, st, id); found {
		t.Fatalf("%s: Load(%s) = %s expiring %s; want not found", when, showID(id), show(got), showExp(exp))
	}
}

// window is the lifetime of a short-lived record written by a timed case.
type window struct {
	deadline time.Time
	gran     time.Duration
}

// open reports whether the calls made so far certainly ran while a record
// expiring at the deadline was still live.
func (w window) open() bool { return time.Now().Before(w.deadline.Add(-w.gran)) }

// wait sleeps until a store must have expired the deadline.
func (w window) wait() { time.Sleep(time.Until(w.deadline.Add(w.gran + slack))) }

// timed runs attempt with a window for its short-lived records. An attempt
// returns false when its calls were too slow to tell a correct store from a
// broken one (the window closed before it checked); timed then retries with
// a window twice as long.
func (s *suite) timed(t *testing.T, attempt func(w window) bool) {
	t.Helper()
	ttl := s.gran + 100*time.Millisecond
	for range 4 {
		if attempt(window{deadline: time.Now().Add(ttl), gran: s.gran}) {
			return
		}
		t.Logf("calls outlasted a %v record lifetime; retrying with %v", ttl, 2*ttl)
		ttl *= 2
	}
	t.Skipf("calls kept outlasting the record lifetime (up to %v); expiry not checked", ttl/2)
}

// liveIn checks, if the window is still open once Load returns, that id holds
// want; it reports whether the check counted.
func (s *suite) liveIn(t *testing.T, st session.Store, w window, id string, want []byte, when string) bool {
	t.Helper()
	err := s.checkRecord(t.Context(), st, id, want, w.deadline)
	if !w.open() {
		return false
	}
	if err != nil {
		t.Fatalf("%s, before its expiry: %v", when, err)
	}
	return true
}

// capability returns st as C, or skips the case when st does not implement
// C.
func capability[C any](t *testing.T, st session.Store) C {
	t.Helper()
	c, ok := st.(C)
	if !ok {
		t.Skipf("the store does not implement %v", reflect.TypeFor[C]())
	}
	return c
}

// errAbsent is returned by with for a capability the store lacks.
var errAbsent = errors.New("conformance: capability absent")

// with calls fn with st as C, or returns errAbsent.
func with[C any](st session.Store, fn func(C) error) error {
	c, ok := st.(C)
	if !ok {
		return fmt.Errorf("%w: %v", errAbsent, reflect.TypeFor[C]())
	}
	return fn(c)
}

// outcome is how a guarded call ended: with err, or with a fault (a panic
// or a hang) described for a message.
type outcome struct {
	err   error
	fault string
}

// guard runs fn so that a panic or a hang fails only the check that made the
// call. A hung call's goroutine is left to end when fn does.
func guard(fn func() error) outcome {
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- outcome{fault: fmt.Sprintf("panicked: %v", v)}
			}
		}()
		done <- outcome{err: fn()}
	}()
	timer := time.NewTimer(hangLimit)
	defer timer.Stop()
	select {
	case o := <-done:
		return o
	case <-timer.C:
		return outcome{fault: fmt.Sprintf("did not return within %v", hangLimit)}
	}
}
