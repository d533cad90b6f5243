package promcollector

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func newMemory(t *testing.T) *memstore.Store {
	t.Helper()
	st := memstore.New(memstore.WithPruneInterval(0))
	t.Cleanup(func() { st.Close() })
	return st
}

// counting is a store whose Count calls are counted and may fail.
type counting struct {
	*memstore.Store
	counts atomic.Int64
	fail   atomic.Bool
}

var errDown = errors.New("store down")

func (c *counting) Count(ctx context.Context) (int64, error) {
	c.counts.Add(1)
	if c.fail.Load() {
		return 0, errDown
	}
	return c.Store.Count(ctx)
}

// plain hides every capability of a store but the four methods.
type plain struct{ session.Store }

func newCollector(t *testing.T, cfg Config) (*Collector, *prometheus.Registry) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return c, reg
}

func gather(t *testing.T, reg *prometheus.Registry) {
	t.Helper()
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("Gather: %v", err)
	}
}

const liveName = "sessionkit_sessions_live"

func TestLiveCountCached(t *testing.T) {
	st := &counting{Store: newMemory(t)}
	for _, id := range []string{"a", "b", "c"} {
		if err := st.Save(t.Context(), id, []byte("x"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	c, reg := newCollector(t, Config{Backend: "memory", Store: st})
	clock := time.Unix(1_000_000, 0)
	c.now = func() time.Time { return clock }

	want := `
# HELP sessionkit_sessions_live Live (unexpired) sessions in the store, counted at most once per count interval.
# TYPE sessionkit_sessions_live gauge
sessionkit_sessions_live{backend="memory"} 3
`
	for i := range 2 {
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), liveName); err != nil {
			t.Fatalf("scrape %d: %v", i+1, err)
		}
	}
	if n := st.counts.Load(); n != 1 {
		t.Fatalf("two scrapes in a row made %d Count calls; want 1", n)
	}

	// Within the interval a new session is not seen; after it, it is.
	if err := st.Save(t.Context(), "d", []byte("x"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(29 * time.Second)
	gather(t, reg)
	if n := st.counts.Load(); n != 1 {
		t.Fatalf("a scrape 29s later made %d Count calls in all; want still 1 (interval 30s)", n)
	}
	clock = clock.Add(time.Second)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(strings.Replace(want, "} 3", "} 4", 1)), liveName); err != nil {
		t.Fatalf("scrape after the interval: %v", err)
	}
	if n := st.counts.Load(); n != 2 {
		t.Fatalf("a scrape after the interval made %d Count calls in all; want 2", n)
	}
}

func TestLiveCountConcurrentScrapes(t *testing.T) {
	st := &counting{Store: newMemory(t)}
	_, reg := newCollector(t, Config{Backend: "memory", Store: st})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { gather(t, reg) })
	}
	wg.Wait()
	if n := st.counts.Load(); n != 1 {
		t.Fatalf("8 concurrent scrapes made %d Count calls; want 1", n)
	}
}

func TestLiveCountFailure(t *testing.T) {
	st := &counting{Store: newMemory(t)}
	st.fail.Store(true)
	c, reg := newCollector(t, Config{Backend: "memory", Store: st})
	clock := time.Unix(1_000_000, 0)
	c.now = func() time.Time { return clock }

	for range 2 {
		if n, err := testutil.GatherAndCount(reg, liveName); err != nil || n != 0 {
			t.Fatalf("scrape while Count fails: %d live series, %v; want the gauge absent", n, err)
		}
	}
	if n := st.counts.Load(); n != 1 {
		t.Fatalf("two scrapes while Count fails made %d calls; want 1 (the failure is cached too)", n)
	}
	if got := testutil.ToFloat64(c.calls.WithLabelValues("count", "error")); got != 1 {
		t.Errorf(`store_calls_total{op="count",result="error"} = %v; want 1`, got)
	}

	st.fail.Store(false)
	clock = clock.Add(30 * time.Second)
	if n, err := testutil.GatherAndCount(reg, liveName); err != nil || n != 1 {
		t.Fatalf("scrape after the store recovered: %d live series, %v; want 1", n, err)
	}
}

func TestNoCounter(t *testing.T) {
	for name, st := range map[string]session.Store{"no-counter": plain{newMemory(t)}, "no-store": nil} {
		t.Run(name, func(t *testing.T) {
			c, reg := newCollector(t, Config{Backend: "memory", Store: st})
			if n, err := testutil.GatherAndCount(reg, liveName); err != nil || n != 0 {
				t.Fatalf("%d live series, %v; want the gauge absent", n, err)
			}
			descs := make(chan *prometheus.Desc, 16)
			c.Describe(descs)
			close(descs)
			for d := range descs {
				if strings.Contains(d.String(), liveName) {
					t.Errorf("Describe announces %s for a store that cannot count", liveName)
				}
			}
		})
	}
}

// TestManager runs requests through a real Manager and checks that its
// store calls and session events reach the counters.
func TestManager(t *testing.T) {
	st := newMemory(t)
	c, reg := newCollector(t, Config{Backend: "memory", Store: st})
	m, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), Metrics: c})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	request := func(id string, fn func(*session.Session) error) session.CommitResult {
		t.Helper()
		s := m.Open(ctx, id)
		if err := fn(s); err != nil {
			t.Fatal(err)
		}
		res, err := m.Commit(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	id := request("", func(s *session.Session) error { return s.Put("n", 1) }).ID  // save
	request(id, func(s *session.Session) error { return s.Put("n", 2) })           // load, save
	request(id, func(s *session.Session) error { _, err := s.Keys(); return err }) // load
	request(id, func(s *session.Session) error { return s.Destroy() })             // load, delete

	for _, w := range []struct {
		op   session.Op
		want float64
	}{{session.OpLoad, 3}, {session.OpSave, 2}, {session.OpDelete, 1}, {session.OpTouch, 0}} {
		if got := testutil.ToFloat64(c.calls.WithLabelValues(string(w.op), "ok")); got != w.want {
			t.Errorf(`store_calls_total{op=%q,result="ok"} = %v; want %v`, w.op, got, w.want)
		}
	}
	for _, w := range []struct {
		e    session.Event
		want float64
	}{{session.EventCreated, 1}, {session.EventDestroyed, 1}, {session.EventRenewed, 0}} {
		if got := testutil.ToFloat64(c.events.WithLabelValues(string(w.e))); got != w.want {
			t.Errorf(`session_events_total{event=%q} = %v; want %v`, w.e, got, w.want)
		}
	}
	if n := histogramCount(t, reg, "load"); n != 3 {
		t.Errorf(`store_call_duration_seconds{op="load"} holds %d observations; want 3`, n)
	}

	// A failing store shows as errors, a cancelled request as canceled.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Open(cancelled, id).Keys(); err == nil {
		t.Fatal("a load with a cancelled context succeeded")
	}
	st.Close()
	if _, err := m.Open(ctx, id).Keys(); err == nil {
		t.Fatal("a load from a closed store succeeded")
	}
	if got := testutil.ToFloat64(c.calls.WithLabelValues("load", "canceled")); got != 1 {
		t.Errorf(`store_calls_total{op="load",result="canceled"} = %v; want 1`, got)
	}
	if got := testutil.ToFloat64(c.calls.WithLabelValues("load", "error")); got != 1 {
		t.Errorf(`store_calls_total{op="load",result="error"} = %v; want 1`, got)
	}

	out, err := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), id) || strings.Contains(string(out), session.LogID(id)) {
		t.Error("the exposition holds the session ID or its hash")
	}
}

func TestPruned(t *testing.T) {
	st := newMemory(t)
	c, _ := newCollector(t, Config{Backend: "memory", Store: st})
	m, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), Metrics: c})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := st.Save(t.Context(), id, []byte("{}"), time.Now().Add(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond)
	if n, err := m.Prune(t.Context()); err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
	if got := testutil.ToFloat64(c.events.WithLabelValues("pruned")); got != 2 {
		t.Errorf(`session_events_total{event="pruned"} = %v; want 2`, got)
	}
	if got := testutil.ToFloat64(c.calls.WithLabelValues("prune", "ok")); got != 1 {
		t.Errorf(`store_calls_total{op="prune",result="ok"} = %v; want 1`, got)
	}
}

func histogramCount(t *testing.T, reg *prometheus.Registry, op string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sessionkit_store_call_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && l.GetValue() == op {
					return m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	t.Fatalf("no latency histogram for op %q", op)
	return 0
}

func TestLint(t *testing.T) {
	c, _ := newCollector(t, Config{Backend: "memory", Store: newMemory(t)})
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no backend":       {},
		"unsorted buckets": {Backend: "x", Buckets: []float64{1, 0.5}},
		"empty buckets":    {Backend: "x", Buckets: []float64{}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	c, err := New(Config{Backend: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.interval != 30*time.Second {
		t.Errorf("default CountInterval = %v; want 30s", c.interval)
	}
	c.SessionEvent(session.EventCreated, -1) // must not panic
	c.StoreCall("future-op", time.Millisecond, nil)
	if got := testutil.ToFloat64(c.calls.WithLabelValues("future-op", "ok")); got != 1 {
		t.Errorf("an op unknown at construction was not counted: %v", got)
	}
}

// TestTwoBackends registers a collector per store on one registry, as an
// application with two session stores would.
func TestTwoBackends(t *testing.T) {
	reg := prometheus.NewRegistry()
	for _, b := range []string{"postgres", "redis"} {
		c, err := New(Config{Backend: b, Store: newMemory(t)})
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Register(c); err != nil {
			t.Fatalf("registering the %s collector: %v", b, err)
		}
	}
	if n, err := testutil.GatherAndCount(reg, liveName); err != nil || n != 2 {
		t.Fatalf("%d live series, %v; want one per backend", n, err)
	}
}
