// Package promcollector exposes a session.Manager's measurements to
// Prometheus.
//
// A Collector is both the Manager's session.Metrics and a Prometheus
// collector:
//
//	c, err := promcollector.New(promcollector.Config{Backend: "postgres", Store: st})
//	...
//	registry.MustRegister(c)
//	mgr, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), Metrics: c})
//
// It exports, each series labelled backend="<Config.Backend>":
//
//	sessionkit_store_calls_total{op,result}        store calls: op is load, save, touch,
//	                                               delete, count, prune or users; result is
//	                                               ok, error, canceled or timeout
//	sessionkit_store_call_duration_seconds{op}     store call latency histogram
//	sessionkit_session_events_total{event}         created, destroyed, renewed,
//	                                               absolute_expired, undecodable,
//	                                               late_change, pruned (sessions removed)
//	sessionkit_sessions_live                       live sessions, from the store's
//	                                               session.Counter, at most one query per
//	                                               Config.CountInterval; absent when the
//	                                               store cannot count or the last count failed
//	sessionkit_store_foreign_keys_total            keys under the session prefix holding another
//	                                               type than a session (Redis: another
//	                                               application's data), for a store that counts
//	                                               them (a Foreign() int64 method)
//
// No label carries session data or IDs: the label values are the fixed
// names above and the backend given at construction.
package promcollector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sessionkit/sessionkit/session"
)

// Config configures a Collector. Only Backend is required.
type Config struct {
	// Backend is the value of the backend label on every series, such as
	// "postgres", "redis" or "bbolt". Required.
	Backend string
	// Store is the store whose live sessions the sessions_live gauge
	// reports, through its session.Counter capability. When Store is nil
	// or cannot count, the gauge is absent.
	Store session.Store
	// CountInterval is how long a count of live sessions is reused: a
	// scrape within it gets the cached value and makes no store call, so
	// scraping often does not load the store. The default is 30 seconds.
	CountInterval time.Duration
	// CountTimeout bounds one count of live sessions. The default is 5
	// seconds.
	CountTimeout time.Duration
	// Namespace prefixes every metric name. The default is "sessionkit".
	Namespace string
	// Buckets are the latency histogram's upper bounds in seconds, in
	// increasing order. The default spans 100µs (an embedded store) to 5s.
	Buckets []float64
}

// DefaultBuckets are the latency histogram's default upper bounds, in
// seconds.
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// ops and events are the label values known in advance; their series are
// created at zero so that a rate over them is defined from the start.
var (
	ops     = []session.Op{session.OpLoad, session.OpSave, session.OpTouch, session.OpDelete, session.OpCount, session.OpPrune, session.OpUsers}
	results = []string{"ok", "error", "canceled", "timeout"}
	events  = []session.Event{
		session.EventCreated, session.EventDestroyed, session.EventRenewed, session.EventAbsoluteExpired,
		session.EventUndecodable, session.EventLateChange, session.EventPruned,
		session.EventEnded, session.EventConflict,
	}
)

// Collector records a Manager's store calls and session events and reports
// them, with the count of live sessions, to Prometheus. It implements
// session.Metrics and prometheus.Collector and is safe for concurrent use.
// It starts no goroutine: the live count is taken during a scrape.
type Collector struct {
	calls     *prometheus.CounterVec
	durations *prometheus.HistogramVec
	events    *prometheus.CounterVec

	// byOp holds each known op's series, so that StoreCall on the request
	// path skips the label lookup. Read-only after New.
	byOp map[session.Op]*opSeries

	counter  session.Counter // nil: no live gauge
	liveDesc *prometheus.Desc

	foreign     interface{ Foreign() int64 } // nil: no foreign keys counter
	foreignDesc *prometheus.Desc
	interval    time.Duration
	timeout     time.Duration
	now         func() time.Time // replaced in tests

	mu       sync.Mutex // serializes counts, so concurrent scrapes share one
	counted  time.Time  // when the last count was attempted; zero: never
	live     float64
	haveLive bool // the last count succeeded
}

type opSeries struct {
	results  map[string]prometheus.Counter
	duration prometheus.Observer
}

// New checks cfg, applies its defaults and returns a Collector. Whether
// cfg.Store implements session.Counter is decided here, once.
func New(cfg Config) (*Collector, error) {
	if cfg.Backend == "" {
		return nil, errors.New("prometheus: Config.Backend is required (such as \"postgres\")")
	}
	if cfg.CountInterval <= 0 {
		cfg.CountInterval = 30 * time.Second
	}
	if cfg.CountTimeout <= 0 {
		cfg.CountTimeout = 5 * time.Second
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "sessionkit"
	}
	if cfg.Buckets == nil {
		cfg.Buckets = DefaultBuckets
	}
	if len(cfg.Buckets) == 0 || !slices.IsSorted(cfg.Buckets) {
		return nil, fmt.Errorf("prometheus: Config.Buckets %v: want bounds in increasing order", cfg.Buckets)
	}
	labels := prometheus.Labels{"backend": cfg.Backend}
	c := &Collector{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: cfg.Namespace, Subsystem: "store", Name: "calls_total", ConstLabels: labels,
			Help: "Session store calls by operation and result (ok, error, canceled, timeout).",
		}, []string{"op", "result"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: cfg.Namespace, Subsystem: "store", Name: "call_duration_seconds", ConstLabels: labels,
			Help: "Session store call latency by operation.", Buckets: slices.Clone(cfg.Buckets),
		}, []string{"op"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: cfg.Namespace, Subsystem: "session", Name: "events_total", ConstLabels: labels,
			Help: "Session events; pruned counts the expired sessions removed.",
		}, []string{"event"}),
		byOp:     map[session.Op]*opSeries{},
		interval: cfg.CountInterval,
		timeout:  cfg.CountTimeout,
		now:      time.Now,
	}
	for _, op := range ops {
		s := &opSeries{results: map[string]prometheus.Counter{}, duration: c.durations.WithLabelValues(string(op))}
		for _, r := range results {
			s.results[r] = c.calls.WithLabelValues(string(op), r)
		}
		c.byOp[op] = s
	}
	for _, e := range events {
		c.events.WithLabelValues(string(e))
	}
	if cfg.Store != nil {
		c.counter, _ = cfg.Store.(session.Counter)
		c.foreign, _ = cfg.Store.(interface{ Foreign() int64 })
	}
	if c.foreign != nil {
		c.foreignDesc = prometheus.NewDesc(prometheus.BuildFQName(cfg.Namespace, "store", "foreign_keys_total"),
			"Keys under the session prefix holding another type than a session (another application's data), met by loads and iterations.", nil, labels)
	}
	if c.counter != nil {
		c.liveDesc = prometheus.NewDesc(prometheus.BuildFQName(cfg.Namespace, "sessions", "live"),
			"Live (unexpired) sessions in the store, counted at most once per count interval.", nil, labels)
	}
	return c, nil
}

// result classifies a store call's error for the result label. A cancelled
// context (the client went away) is told apart from a timeout (the store
// was too slow) and from other failures.
func result(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "error"
	}
}

// StoreCall counts one store call and observes its duration.
func (c *Collector) StoreCall(op session.Op, d time.Duration, err error) {
	r := result(err)
	if s, ok := c.byOp[op]; ok {
		s.results[r].Inc()
		s.duration.Observe(d.Seconds())
		return
	}
	c.calls.WithLabelValues(string(op), r).Inc()
	c.durations.WithLabelValues(string(op)).Observe(d.Seconds())
}

// SessionEvent adds n to the event's counter; n <= 0 is ignored.
func (c *Collector) SessionEvent(e session.Event, n int64) {
	if n <= 0 {
		return
	}
	c.events.WithLabelValues(string(e)).Add(float64(n))
}

// Describe sends the descriptors of every series the Collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.calls.Describe(ch)
	c.durations.Describe(ch)
	c.events.Describe(ch)
	if c.liveDesc != nil {
		ch <- c.liveDesc
	}
	if c.foreignDesc != nil {
		ch <- c.foreignDesc
	}
}

// Collect sends the current values. It counts the live sessions only when
// the last count is older than Config.CountInterval.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.counter != nil {
		if n, ok := c.liveCount(); ok {
			ch <- prometheus.MustNewConstMetric(c.liveDesc, prometheus.GaugeValue, n)
		}
	}
	if c.foreign != nil {
		ch <- prometheus.MustNewConstMetric(c.foreignDesc, prometheus.CounterValue, float64(c.foreign.Foreign()))
	}
	c.calls.Collect(ch)
	c.durations.Collect(ch)
	c.events.Collect(ch)
}

// liveCount returns the cached count of live sessions, counting again when
// the cache is older than the interval. A failed count is cached as well,
// so a struggling store is not asked again on every scrape; until a count
// succeeds the gauge is absent and the failure shows in store_calls_total.
func (c *Collector) liveCount() (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.counted.IsZero() && now.Sub(c.counted) < c.interval {
		return c.live, c.haveLive
	}
	c.counted = now
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	start := time.Now()
	n, err := c.counter.Count(ctx)
	c.StoreCall(session.OpCount, time.Since(start), err)
	c.live, c.haveLive = float64(n), err == nil
	return c.live, c.haveLive
}

var (
	_ session.Metrics      = (*Collector)(nil)
	_ prometheus.Collector = (*Collector)(nil)
)
