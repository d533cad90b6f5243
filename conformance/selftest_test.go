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
	"slices"
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

	// The classes the suite used to miss, and other bugs a store
	// author plausibly makes.
	touchRMW        fault = "touch-rmw"         // Touch reads, then writes the old data back if the record is still there
	touchUpsert     fault = "touch-upsert"      // Touch reads, then upserts the old data (revives a deleted record)
	pruneOneBatch   fault = "prune-one-batch"   // Prune removes one batch of 1000 per call
	pruneMargin     fault = "prune-margin"      // Prune also removes records expiring in the next 5 minutes
	pruneTZ         fault = "prune-tz"          // Prune compares against a clock an hour ahead (a time zone slip)
	ttlMinutes      fault = "ttl-minutes"       // Save turns the expiry into a TTL in whole minutes, rounded down
	iterFirstPage   fault = "iter-first-page"   // Iterate stops after its first page of 500
	iterOverlap     fault = "iter-overlap"      // Iterate pages by sid >= last, repeating a record per page
	iterOffset      fault = "iter-offset"       // Iterate pages by offset, skipping records when fn deletes some
	iterReusesData  fault = "iter-reuses-data"  // Iterate passes one reused buffer as Record.Data
	iterHoldsLock   fault = "iter-holds-lock"   // Iterate calls fn holding the store's lock
	countsLinks     fault = "counts-links"      // Count and Iterate include the user index's entries
	linksForever    fault = "links-forever"     // links never expire nor get pruned
	linksShortest   fault = "links-shortest"    // a user's links expire with the last LinkUser's expiry
	linksFirst      fault = "links-first"       // a user's links expire with the first LinkUser's expiry
	linksKeepFirst  fault = "links-keep-first"  // LinkUser of a linked ID keeps the link's old expiry
	usersVolatile   fault = "users-volatile"    // Reopen loses the user index
	ignoresStall    fault = "ignores-stall"     // a call waiting on the backend ignores its context
	ctxCheckedLate  fault = "ctx-checked-late"  // Save and Delete check the context after writing
	hangsClosed     fault = "hangs-closed"      // a closed store blocks every call forever
	panicsOnMissing fault = "panics-on-missing" // Load of a missing ID panics
	closeStrands    fault = "close-strands"     // a Save in flight when Close runs never returns
	iterIgnoresCtx  fault = "iter-ignores-ctx"  // Iterate checks its context only when it starts
	usersFirstPage  fault = "users-first-page"  // UserSessions returns the first 100 linked IDs

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

	touchRMW:        {"concurrency/touch-vs-save"},
	touchUpsert:     {"concurrency/touch-vs-save", "concurrency/touch-vs-delete"},
	pruneOneBatch:   {"pruner/many"},
	pruneMargin:     {"pruner/many", "expiry/minutes"},
	pruneTZ:         {"pruner/many", "expiry/minutes"},
	ttlMinutes:      {"expiry/minutes"},
	iterFirstPage:   {"iterator/many"},
	iterOverlap:     {"iterator/many"},
	iterOffset:      {"iterator/many"},
	iterReusesData:  {"iterator/many"},
	iterHoldsLock:   {"iterator/many"},
	countsLinks:     {"userindex/linked"},
	linksForever:    {"userindex/links-end"},
	linksShortest:   {"userindex/longest-link"},
	linksFirst:      {"userindex/longest-link"},
	linksKeepFirst:  {"userindex/relink-extends", "manager/revoke-after-touch"},
	usersVolatile:   {"persist/userindex"},
	ignoresStall:    {"stall/load", "stall/save", "stall/touch", "stall/delete", "stall/iterate"},
	ctxCheckedLate:  {"cancel/save", "cancel/delete"},
	hangsClosed:     {"closer/after-close"},
	panicsOnMissing: {"basic/load-missing"},
	closeStrands:    {"closer/during-calls"},
	iterIgnoresCtx:  {"iterator/many"},
	usersFirstPage:  {"userindex/many"},
}

// survivors lists, for faults whose case must fail without taking the run
// down, cases of the same run that must still pass.
var survivors = map[fault][]string{
	panicsOnMissing: {"basic/round-trip"},
	iterHoldsLock:   {"iterator/live-once"},
}

const faultEnv = "SESSIONKIT_CONFORMANCE_FAULT"

// harness makes toy stores configured by cfg, with Reopen and Stall.
func harness(cfg toyConfig) conformance.Harness {
	open := func(t *testing.T, recs map[string]toyRecord, users map[string]map[string]time.Time, userExp map[string]time.Time) session.Store {
		s := &toy{toyConfig: cfg, recs: recs, users: users, userExp: userExp}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return conformance.Harness{
		New: func(t *testing.T) session.Store {
			return open(t, map[string]toyRecord{}, map[string]map[string]time.Time{}, map[string]time.Time{})
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
			users, userExp := old.users, old.userExp
			if old.f == usersVolatile {
				users, userExp = map[string]map[string]time.Time{}, map[string]time.Time{}
			}
			return open(t, recs, users, userExp)
		},
		Stall: func(t *testing.T, st session.Store) func() {
			return st.(*toy).stallBackend()
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
	h := harness(toyConfig{f: f})
	h.Skip = skipFor
	conformance.Run(t, h)
}

// TestSuiteCatchesFaults is the suite's mutation check: each fault is one
// realistic bug in an otherwise correct store, and the suite must fail the
// cases caught lists for it (and keep passing those survivors lists, so a
// panic or a hang costs one case, not the run).
func TestSuiteCatchesFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test process per fault")
	}
	for f, cases := range caught {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			var areas, names []string
			for _, c := range append(slices.Clone(cases), survivors[f]...) {
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
			for _, c := range survivors[f] {
				if !bytes.Contains(out, []byte("--- PASS: TestFaulty/"+c+" ")) {
					t.Errorf("with fault %q, %s did not pass: a fault in one case must not take others down\n%s", f, c, out)
				}
			}
		})
	}
}

// TestHangCostsSeconds checks that a store whose every call hangs after
// Close costs the closer case one hang limit, not one per method: the
// probes run at once.
func TestHangCostsSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test process")
	}
	out, err := runFaulty(t, hangsClosed, "^closer$/")
	if err == nil {
		t.Fatalf("the closer case passed a store that hangs after Close\n%s", out)
	}
	m := regexp.MustCompile(`--- FAIL: TestFaulty/closer/after-close \(([0-9.]+)s\)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no result for closer/after-close\n%s", out)
	}
	if d, _ := time.ParseDuration(string(m[1]) + "s"); d > 10*time.Second {
		t.Errorf("closer/after-close took %v on a store whose calls all hang; want about one hang limit (3s)", d)
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

// TestSkip checks Harness.Skip: a named case and a named check are skipped
// with the reason printed, and a key naming nothing fails the run.
func TestSkip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test process")
	}
	out, err := runFaulty(t, iterOverlap+"+skip", "^(iterator|basic)$/^(many|round-trip)$")
	if err != nil {
		t.Fatalf("the run with iterator/many/no-repeats opted out failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"--- SKIP: TestFaulty/iterator/many/no-repeats ",
		"opted out by Harness.Skip[\"iterator/many/no-repeats\"]: pages overlap by design",
		"--- PASS: TestFaulty/iterator/many/every-record ",
		"--- SKIP: TestFaulty/basic/round-trip ",
		"opted out by Harness.Skip[\"basic/round-trip\"]: the reason",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	out, err = runFaulty(t, "+badskip", "^basic$/^round-trip$")
	if err == nil || !bytes.Contains(out, []byte(`Harness.Skip["iterator/mnay"]: no area or case of that name`)) {
		t.Errorf("a misspelt Harness.Skip key did not fail the run with a message naming it: %v\n%s", err, out)
	}
}

// runFaulty runs TestFaulty with fault f in a child process, limited to the
// subtests that match run. A fault may end in "+skip" or "+badskip" to set
// Harness.Skip as TestSkip wants.
func runFaulty(t *testing.T, f fault, run string) ([]byte, error) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFaulty$/"+run, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), faultEnv+"="+string(f))
	return cmd.CombinedOutput()
}

func init() {
	// TestFaulty's harness reads the "+skip" suffixes here, so that
	// harness itself stays the one every test uses.
	f := os.Getenv(faultEnv)
	base, opt, _ := strings.Cut(f, "+")
	if opt == "" {
		return
	}
	os.Setenv(faultEnv, base)
	if base == "" {
		os.Setenv(faultEnv, "none")
	}
	skipFor = map[string]map[string]string{
		"skip": {
			"iterator/many/no-repeats": "pages overlap by design",
			"basic/round-trip":         "the reason",
		},
		"badskip": {"iterator/mnay": "misspelt"},
	}[opt]
}

// skipFor is the Harness.Skip TestFaulty uses, set by init.
var skipFor map[string]string

// toy is a plain map store with every capability, broken by its fault. With
// no fault it is the reference store: written from the session.Store
// documentation alone, it must pass the whole suite.
type toy struct {
	toyConfig
	mu      sync.RWMutex
	recs    map[string]toyRecord
	users   map[string]map[string]time.Time // user → id → the link's expiry
	userExp map[string]time.Time            // links-shortest, links-first: user → the index's expiry
	closed  bool

	stallMu sync.Mutex
	stall   chan struct{} // closed when the backend answers again; nil when it answers
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

// stallBackend makes every call wait, as on a backend that stopped
// answering, until the returned func is called.
func (s *toy) stallBackend() func() {
	ch := make(chan struct{})
	s.stallMu.Lock()
	s.stall = ch
	s.stallMu.Unlock()
	return func() {
		s.stallMu.Lock()
		s.stall = nil
		s.stallMu.Unlock()
		close(ch)
	}
}

// backend waits while the backend is stalled, as a network call would.
func (s *toy) backend(ctx context.Context) error {
	s.stallMu.Lock()
	ch := s.stall
	s.stallMu.Unlock()
	if ch == nil {
		return nil
	}
	if s.f == ignoresStall {
		<-ch
		return ctx.Err()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enter waits for the backend, locks the store and reports why a call may
// not proceed; the caller unlocks whatever enter returned.
func (s *toy) enter(ctx context.Context) error {
	err := s.backend(ctx)
	s.mu.Lock()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil && s.f != ignoresCtx {
		return err
	}
	if s.closed {
		switch s.f {
		case panicsClosed:
			panic("closed") // the caller's deferred Unlock runs
		case hangsClosed:
			s.mu.Unlock() // so that the other calls hang here too
			select {}
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

// roundTrip stands for the time a request to a real backend takes, the
// window in which a read-then-write races other writers.
func roundTrip() { time.Sleep(time.Millisecond) }

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
	if !ok && s.f == panicsOnMissing {
		panic("no such record")
	}
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
	err := s.save(ctx, id, data, exp)
	if s.f == closeStrands && err == nil {
		// Wait for a commit that a Close made meanwhile never answers.
		roundTrip()
		s.mu.RLock()
		closed := s.closed
		s.mu.RUnlock()
		if closed {
			select {}
		}
	}
	return err
}

func (s *toy) save(ctx context.Context, id string, data []byte, exp time.Time) error {
	s.delay()
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil && s.f != ctxCheckedLate {
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
	if s.f == ttlMinutes {
		now := time.Now()
		exp = now.Add(exp.Sub(now).Truncate(time.Minute))
	}
	s.recs[s.key(id)] = toyRecord{data: bytes.Clone(data), exp: s.ceil(exp)}
	return ctx.Err()
}

func (s *toy) Touch(ctx context.Context, id string, exp time.Time) error {
	s.delay()
	if s.f == touchRMW || s.f == touchUpsert {
		return s.touchRMW(ctx, id, exp)
	}
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

// touchRMW is Touch as two round trips: read the record, then write it
// back with the new expiry.
func (s *toy) touchRMW(ctx context.Context, id string, exp time.Time) error {
	data, _, found, err := s.Load(ctx, id)
	if err != nil || !found {
		return err
	}
	roundTrip()
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return err
	}
	if _, ok := s.recs[s.key(id)]; ok || s.f == touchUpsert {
		s.recs[s.key(id)] = toyRecord{data: data, exp: s.ceil(exp)}
	}
	return nil
}

func (s *toy) Delete(ctx context.Context, id string) error {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil && s.f != ctxCheckedLate {
		return err
	}
	for k := range s.recs {
		if matched, _ := path.Match(id, k); k == s.key(id) || (s.f == globDeletes && matched) {
			delete(s.recs, k)
		}
	}
	return ctx.Err()
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
	if s.f == countsLinks {
		n += int64(len(s.users))
	}
	return n, nil
}

func (s *toy) Prune(ctx context.Context) (int64, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	cutoff := time.Now()
	switch s.f {
	case pruneMargin:
		cutoff = cutoff.Add(5 * time.Minute)
	case pruneTZ:
		cutoff = cutoff.Add(time.Hour)
	}
	var n int64
	for k, r := range s.recs {
		if s.f == pruneOneBatch && n == 1000 {
			break
		}
		if !r.exp.After(cutoff) {
			delete(s.recs, k)
			n++
		}
	}
	if s.f == prunesQuietly {
		n = 0
	}
	if s.f != linksForever {
		for user, ids := range s.users {
			for id, exp := range ids {
				if !exp.After(time.Now()) {
					delete(ids, id)
				}
			}
			if len(ids) == 0 {
				delete(s.users, user)
			}
		}
	}
	return n, nil
}

// page is how many records one Iterate "query" returns.
const page = 500

// Iterate reads pages of records by key (id > last), each under the lock,
// and calls fn with no lock held.
func (s *toy) Iterate(ctx context.Context, fn func(session.Record) error) error {
	last, first := "", true
	var buf []byte
	for n := 0; ; n++ {
		pctx := ctx
		if s.f == iterIgnoresCtx && !first {
			pctx = context.WithoutCancel(ctx)
		}
		recs, err := s.page(pctx, last, first, n)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if s.f == iterReusesData {
				buf = append(buf[:0], r.Data...)
				r.Data = buf
			}
			if s.f == iterHoldsLock {
				s.mu.RLock()
			}
			err := fn(r)
			if s.f == iterHoldsLock {
				s.mu.RUnlock()
			}
			if err != nil && s.f != iterOnError {
				return err
			}
		}
		if len(recs) < page || s.f == iterFirstPage {
			return nil
		}
		last, first = recs[len(recs)-1].ID, false
	}
}

// page returns the live records after last in key order, at most page of
// them; iter-offset skips n pages instead, and iter-overlap starts at last.
func (s *toy) page(ctx context.Context, last string, first bool, n int) ([]session.Record, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	var ids []string
	for k, r := range s.recs {
		if s.live(r) || s.f == iterExpired {
			ids = append(ids, k)
		}
	}
	if s.f == countsLinks {
		for u := range s.users {
			ids = append(ids, "user:"+u)
		}
	}
	slices.Sort(ids)
	switch {
	case s.f == iterOffset:
		ids = ids[min(len(ids), n*page):]
	case !first:
		i, found := slices.BinarySearch(ids, last)
		if found && s.f != iterOverlap {
			i++
		}
		ids = ids[i:]
	}
	var recs []session.Record
	for _, id := range ids[:min(page, len(ids))] {
		r := s.recs[id]
		recs = append(recs, session.Record{ID: id, Data: bytes.Clone(r.data), ExpiresAt: r.exp})
	}
	return recs, nil
}

// LinkUser keeps each link with its own expiry, as the contract allows,
// moving it when the link is made again. The links-shortest and links-first
// faults keep one expiry per user instead, set the way a careless EXPIRE
// sets it.
func (s *toy) LinkUser(ctx context.Context, user, id string, exp time.Time) error {
	defer s.mu.Unlock()
	if err := s.enter(ctx); err != nil {
		return err
	}
	if s.users[user] == nil {
		s.users[user] = map[string]time.Time{}
	}
	if _, linked := s.users[user][id]; !linked || s.f != linksKeepFirst {
		s.users[user][id] = exp
	}
	if _, ok := s.userExp[user]; s.f == linksShortest || s.f == linksFirst && !ok {
		s.userExp[user] = exp
	}
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
	now := time.Now()
	if s.f == linksShortest || s.f == linksFirst {
		if exp, ok := s.userExp[user]; ok && !exp.After(now) {
			delete(s.users, user)
			delete(s.userExp, user)
		}
	}
	var ids []string
	for u, linked := range s.users {
		for id, exp := range linked {
			live := exp.After(now) || s.f == linksForever || s.f == linksShortest || s.f == linksFirst
			if (u == user || s.f == mixesUsers) && live {
				ids = append(ids, id)
			}
		}
	}
	if s.f == usersFirstPage && len(ids) > 100 {
		ids = ids[:100]
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
