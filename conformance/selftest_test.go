package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/session"
)

// The suite is checked against a small store that can be made to break one
// promise at a time: each fault must fail the cases that guard that promise.

type fault string

const (
	noFault       fault = ""
	keepsExpired  fault = "keeps-expired"  // Load ignores expiry
	resurrects    fault = "resurrects"     // Touch revives an expired record
	touchCreates  fault = "touch-creates"  // Touch of a missing ID creates a record
	touchRewrites fault = "touch-rewrites" // Touch empties the data
	staleExpiry   fault = "stale-expiry"   // Save keeps an existing record's expiry
	zeroExpiry    fault = "zero-expiry"    // Load reports no expiry
	sharesSlice   fault = "shares-slice"   // Load returns the stored slice
	truncates     fault = "truncates"      // Save keeps at most 64 KiB
	foldsCase     fault = "folds-case"     // IDs are case-insensitive
	globDeletes   fault = "glob-deletes"   // Delete treats the ID as a pattern
	ignoresCtx    fault = "ignores-ctx"    // no method checks its context
	countsExpired fault = "counts-expired" // Count includes expired records
	prunesQuietly fault = "prunes-quietly" // Prune reports 0
	iterExpired   fault = "iter-expired"   // Iterate yields expired records
	iterOnError   fault = "iter-on-error"  // Iterate ignores fn's error
	mixesUsers    fault = "mixes-users"    // UserSessions ignores the user
	panicsClosed  fault = "panics-closed"  // a closed store panics
	volatile      fault = "volatile"       // Reopen loses every record
	resetsExpiry  fault = "resets-expiry"  // Reopen moves every expiry a day ahead

	// slow is no fault: Load, Save and Touch take 60ms each, more than the
	// first window the expiry cases give them.
	slow fault = "slow"
)

// caught lists, for each fault, cases that must fail (as area/case).
var caught = map[fault][]string{
	keepsExpired:  {"expiry/save-past", "expiry/honoured", "expiry/touch-past"},
	resurrects:    {"expiry/touch-expired"},
	touchCreates:  {"basic/touch-missing"},
	touchRewrites: {"basic/touch-keeps-data", "expiry/touch-extends"},
	staleExpiry:   {"basic/overwrite", "expiry/overwrite-longer", "expiry/overwrite-past"},
	zeroExpiry:    {"basic/round-trip"},
	sharesSlice:   {"basic/returned-slice"},
	truncates:     {"payload/1mib", "payload/sizes"},
	foldsCase:     {"ids/case"},
	globDeletes:   {"ids/star", "ids/glob"},
	ignoresCtx:    {"cancel/load", "cancel/save", "cancel/delete", "cancel/iterate"},
	countsExpired: {"counter/live-only", "counter/after-expiry"},
	prunesQuietly: {"pruner/expired-only"},
	iterExpired:   {"iterator/live-once", "iterator/nothing-live"},
	iterOnError:   {"iterator/stop-on-error"},
	mixesUsers:    {"userindex/separate-users"},
	panicsClosed:  {"closer/after-close"},
	volatile:      {"persist/data", "persist/delete", "persist/expiry"},
	resetsExpiry:  {"persist/expiry", "persist/touch"},
}

const faultEnv = "SESSIONKIT_CONFORMANCE_FAULT"

// harness makes toy stores configured by cfg, with Reopen.
func harness(cfg toyConfig) conformance.Harness {
	open := func(t *testing.T, recs map[string]toyRecord, users map[string]map[string]bool) session.Store {
		s := &toy{toyConfig: cfg, recs: recs, users: users}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return conformance.Harness{
		New: func(t *testing.T) session.Store {
			return open(t, map[string]toyRecord{}, map[string]map[string]bool{})
		},
		Reopen: func(t *testing.T, st session.Store) session.Store {
			old := st.(*toy)
			old.Close()
			recs := map[string]toyRecord{}
			for id, r := range old.recs {
				switch old.f {
				case volatile:
					continue
				case resetsExpiry:
					r.exp = time.Now().Add(24 * time.Hour)
				}
				recs[id] = r
			}
			return open(t, recs, old.users)
		},
		JSONOnly:          cfg.json,
		ExpiryGranularity: cfg.round,
	}
}

// TestFaultFree checks that a second, independent store passes the suite,
// so that the suite does not depend on how stores/memstore works: as is, as a
// JSON-only store, and keeping expiry rounded up to 100ms as
// connect-pg-simple rounds it up to seconds.
func TestFaultFree(t *testing.T) {
	for name, cfg := range map[string]toyConfig{
		"binary":   {},
		"json":     {json: true},
		"rounding": {round: 100 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conformance.Run(t, harness(cfg))
		})
	}
}

// TestFaulty runs the suite against the fault named in the environment; it
// is run by TestSuiteCatchesFaults in a child process, as it must fail.
func TestFaulty(t *testing.T) {
	f := fault(os.Getenv(faultEnv))
	if f == noFault {
		t.Skip("run by TestSuiteCatchesFaults")
	}
	conformance.Run(t, harness(toyConfig{f: f}))
}

func TestSuiteCatchesFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test process per fault")
	}
	for f, cases := range caught {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			var areas, names []string
			for _, c := range cases {
				a, n, _ := strings.Cut(c, "/")
				areas, names = append(areas, regexp.QuoteMeta(a)), append(names, regexp.QuoteMeta(n))
			}
			out, err := runFaulty(t, f, "^("+strings.Join(areas, "|")+")$/^("+strings.Join(names, "|")+")$")
			if err == nil {
				t.Fatalf("the suite passed a store with fault %q; want failures in %v\n%s", f, cases, out)
			}
			for _, c := range cases {
				if !bytes.Contains(out, []byte("--- FAIL: TestFaulty/"+c+" ")) {
					t.Errorf("fault %q did not fail %s\n%s", f, c, out)
				}
			}
		})
	}
}

// TestSlowStorePasses checks that calls slower than a record's lifetime
// make the expiry cases retry with longer lifetimes rather than fail.
func TestSlowStorePasses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test process")
	}
	out, err := runFaulty(t, slow, "^expiry$/")
	if err != nil {
		t.Fatalf("the expiry cases failed a correct but slow store: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("retrying with")) {
		t.Fatalf("no expiry case retried with a slow store\n%s", out)
	}
}

// runFaulty runs TestFaulty with fault f in a child process, limited to the
// subtests that match run.
func runFaulty(t *testing.T, f fault, run string) ([]byte, error) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFaulty$/"+run, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), faultEnv+"="+string(f))
	return cmd.CombinedOutput()
}

// toy is a plain map store with every capability, broken by its fault.
type toy struct {
	toyConfig
	mu     sync.Mutex
	recs   map[string]toyRecord
	users  map[string]map[string]bool
	closed bool
}

// toyConfig sets a toy's fault. With json set the toy refuses payloads that
// are not JSON; with round set it keeps expiry rounded up to a multiple of
// round.
type toyConfig struct {
	f     fault
	json  bool
	round time.Duration
}

type toyRecord struct {
	data []byte
	exp  time.Time
}

// live compares rounded instants the way connect-pg-simple does: a record
// lasts until the end of the rounding unit its expiry falls in.
func (s *toy) live(r toyRecord) bool {
	now := s.ceil(time.Now())
	if s.round > 0 {
		return s.f == keepsExpired || !now.After(r.exp)
	}
	return s.f == keepsExpired || r.exp.After(now)
}

func (s *toy) ceil(t time.Time) time.Time {
	if s.round <= 0 {
		return t
	}
	if c := t.Truncate(s.round); !c.Equal(t) {
		return c.Add(s.round)
	}
	return t
}

// enter locks the store and reports why a call may not proceed.
func (s *toy) enter(ctx context.Context) error {
	s.mu.Lock()
	if err := ctx.Err(); err != nil && s.f != ignoresCtx {
		return err
	}
	if s.closed {
		if s.f == panicsClosed {
			panic("closed")
		}
		return session.ErrClosed
	}
	return nil
}

func (s *toy) delay() {
	if s.f == slow {
		time.Sleep(60 * time.Millisecond)
	}
}

func (s *toy) key(id string) string {
	if s.f == foldsCase {
		return strings.ToLower(id)
	}
	return id
}

func (s *toy) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	s.delay()
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return nil, time.Time{}, false, err
	}
	r, ok := s.recs[s.key(id)]
	if !ok || !s.live(r) {
		return nil, time.Time{}, false, nil
	}
	if s.f != sharesSlice {
		r.data = bytes.Clone(r.data)
	}
	if s.f == zeroExpiry {
		r.exp = time.Time{}
	}
	return r.data, r.exp, true, nil
}

func (s *toy) Save(ctx context.Context, id string, data []byte, exp time.Time) error {
	s.delay()
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return err
	}
	if s.json && !json.Valid(data) {
		return fmt.Errorf("toy: payload is not JSON: %q", data)
	}
	if s.f == truncates && len(data) > 64<<10 {
		data = data[:64<<10]
	}
	if old, ok := s.recs[s.key(id)]; ok && s.f == staleExpiry {
		exp = old.exp
	}
	s.recs[s.key(id)] = toyRecord{data: bytes.Clone(data), exp: s.ceil(exp)}
	return nil
}

func (s *toy) Touch(ctx context.Context, id string, exp time.Time) error {
	s.delay()
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return err
	}
	r, ok := s.recs[s.key(id)]
	if (ok && (s.live(r) || s.f == resurrects)) || s.f == touchCreates {
		if s.f == touchRewrites {
			r.data = nil
		}
		r.exp = s.ceil(exp)
		s.recs[s.key(id)] = r
	}
	return nil
}

func (s *toy) Delete(ctx context.Context, id string) error {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return err
	}
	for k := range s.recs {
		if matched, _ := path.Match(id, k); k == s.key(id) || (s.f == globDeletes && matched) {
			delete(s.recs, k)
		}
	}
	return nil
}

func (s *toy) Count(ctx context.Context) (int64, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	var n int64
	for _, r := range s.recs {
		if s.live(r) || s.f == countsExpired {
			n++
		}
	}
	return n, nil
}

func (s *toy) Prune(ctx context.Context) (int64, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	var n int64
	for k, r := range s.recs {
		if !r.exp.After(time.Now()) {
			delete(s.recs, k)
			n++
		}
	}
	if s.f == prunesQuietly {
		n = 0
	}
	return n, nil
}

func (s *toy) Iterate(ctx context.Context, fn func(session.Record) error) error {
	recs, err := s.snapshot(ctx)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := fn(r); err != nil && s.f != iterOnError {
			return err
		}
	}
	return nil
}

func (s *toy) snapshot(ctx context.Context) ([]session.Record, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	var recs []session.Record
	for k, r := range s.recs {
		if s.live(r) || s.f == iterExpired {
			recs = append(recs, session.Record{ID: k, Data: bytes.Clone(r.data), ExpiresAt: r.exp})
		}
	}
	return recs, nil
}

func (s *toy) LinkUser(ctx context.Context, user, id string, _ time.Time) error {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return err
	}
	if s.users[user] == nil {
		s.users[user] = map[string]bool{}
	}
	s.users[user][id] = true
	return nil
}

func (s *toy) UnlinkUser(ctx context.Context, user, id string) error {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return err
	}
	delete(s.users[user], id)
	return nil
}

func (s *toy) UserSessions(ctx context.Context, user string) ([]string, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	var ids []string
	for u, linked := range s.users {
		for id := range linked {
			if u == user || s.f == mixesUsers {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

func (s *toy) Ping(ctx context.Context) error {
	defer s.mu.Unlock()
	return s.enter(ctx)
}

func (s *toy) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
