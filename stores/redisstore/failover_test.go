package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// failoverBase is the first port of the private cluster TestFailover starts,
// away from the shared one on 7000-7005 and the Sentinel setup on 7200-7205.
const failoverBase = 7100

// TestFailover kills one master of a private Cluster with SIGKILL while
// workers save and load sessions spread over every slot, and checks that:
// requests for sessions on the other masters' slots never fail; no session
// committed on a surviving master is lost; and once the victim's replica is
// promoted, requests for its slots succeed again. The numbers (requests,
// failures by slot owner, promotion and recovery times, writes lost on the
// killed master) are logged, not asserted: timings never decide a test.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own Redis Cluster and kills a node; skipped with -short")
	}
	lc := redistest.StartCluster(t, failoverBase)
	// go-redis logs every failed dial to the dead master; count them instead.
	var dialLogs atomic.Int64
	redis.SetLogger(loggerFunc(func(context.Context, string, ...any) { dialLogs.Add(1) }))
	t.Cleanup(func() {
		std := log.New(os.Stderr, "redis: ", log.LstdFlags)
		redis.SetLogger(loggerFunc(func(_ context.Context, format string, args ...any) { std.Printf(format, args...) }))
	})
	c := redistest.ClusterOf(t, lc.Seeds)
	s, err := redisstore.New(c, redisstore.Options{Prefix: "failover:sess:", UserPrefix: "failover:user:"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Map every session to the master serving its slot.
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	owner := func(slot int64) string {
		for _, r := range slots {
			if int64(r.Start) <= slot && slot <= int64(r.End) {
				return r.Nodes[0].Addr
			}
		}
		return ""
	}
	victim := slots[0].Nodes[0].Addr
	victimPort, _ := strconv.Atoi(victim[strings.LastIndexByte(victim, ':')+1:])
	pid, err := lc.PID(victimPort)
	if err != nil {
		t.Fatalf("pid of the victim %s: %v", victim, err)
	}

	const n = 300
	type sess struct {
		id        string
		onVictim  bool
		committed atomic.Int64 // last version whose Save returned nil
		attempted atomic.Int64 // last version sent, committed or not
	}
	all := make([]*sess, n)
	onVictim := 0
	for i := range all {
		id := fmt.Sprintf("s%03d-%s", i, newID(t)[:8])
		slot, err := c.ClusterKeySlot(ctx, "failover:sess:"+id).Result()
		if err != nil {
			t.Fatal(err)
		}
		all[i] = &sess{id: id, onVictim: owner(slot) == victim}
		if all[i].onVictim {
			onVictim++
		}
	}
	payload := func(v int64) []byte { return []byte(`{"cookie":{"path":"/"},"v":` + strconv.FormatInt(v, 10) + `}`) }
	exp := time.Now().Add(10 * time.Minute)
	for _, x := range all {
		x.attempted.Store(1)
		if err := s.Save(ctx, x.id, payload(1), exp); err != nil {
			t.Fatalf("seeding: %v", err)
		}
		x.committed.Store(1)
	}
	// Let the seed writes reach the replicas before anything is killed.
	if err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		return m.Do(ctx, "wait", 1, 2000).Err()
	}); err != nil {
		t.Fatalf("WAIT for replicas: %v", err)
	}

	// stats per slot owner: 0 = other masters, 1 = the killed master.
	var (
		reqs, fails   [2]atomic.Int64
		stale         atomic.Int64 // loads on other masters that returned an older version
		lastVictimErr atomic.Int64 // unix nanos of the latest failure on the victim's slots
		firstErr      [2]atomic.Value
		stop          atomic.Bool
		wg            sync.WaitGroup
	)
	const workers = 6
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; !stop.Load(); i += workers {
				x := all[i%n]
				k := 0
				if x.onVictim {
					k = 1
				}
				fail := func(err error) {
					fails[k].Add(1)
					firstErr[k].CompareAndSwap(nil, err.Error())
					if k == 1 {
						lastVictimErr.Store(time.Now().UnixNano())
					}
				}
				v := x.attempted.Add(1)
				rctx, cancel := context.WithTimeout(ctx, time.Second)
				reqs[k].Add(1)
				if err := s.Save(rctx, x.id, payload(v), exp); err != nil {
					fail(err)
				} else {
					x.committed.Store(v)
				}
				reqs[k].Add(1)
				data, _, found, err := s.Load(rctx, x.id)
				cancel()
				switch {
				case err != nil:
					fail(err)
				case k == 0 && (!found || string(data) != string(payload(x.committed.Load()))):
					stale.Add(1)
				}
				time.Sleep(2 * time.Millisecond) // a steady load, not a flood, on a shared machine
			}
		}()
	}
	t.Cleanup(func() { stop.Store(true); wg.Wait() })

	time.Sleep(time.Second)
	before := reqs[0].Load() + reqs[1].Load()
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill master %s (pid %d): %v", victim, pid, err)
	}

	// Wait, from a survivor's point of view, for the victim's slots to have
	// a new master and the cluster to be ok again.
	survivor := redis.NewClient(&redis.Options{Addr: otherSeed(lc.Seeds, victim)})
	defer survivor.Close()
	var promoted time.Time
	var newMaster string
	for time.Since(killed) < 60*time.Second {
		info, _ := survivor.ClusterInfo(ctx).Result()
		cur, _ := survivor.ClusterSlots(ctx).Result()
		for _, r := range cur {
			if r.Start == slots[0].Start && len(r.Nodes) > 0 && r.Nodes[0].Addr != victim {
				newMaster = r.Nodes[0].Addr
			}
		}
		if newMaster != "" && strings.Contains(info, "cluster_state:ok") {
			promoted = time.Now()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if promoted.IsZero() {
		t.Fatalf("the killed master's replica was not promoted within 60s")
	}

	// Keep the load on until the victim's slots have served requests without
	// a failure for 2s (or give up 60s after the kill).
	for {
		last := time.Unix(0, lastVictimErr.Load())
		if time.Since(last) > 2*time.Second && time.Since(promoted) > 2*time.Second {
			break
		}
		if time.Since(killed) > 60*time.Second {
			t.Fatalf("requests on the failed-over slots still failing 60s after the kill (last failure %v after it)", last.Sub(killed))
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()

	recovered := time.Unix(0, lastVictimErr.Load())
	if recovered.Before(killed) {
		recovered = killed
	}

	// Every session must load again; on the surviving masters, with exactly
	// its last committed version.
	var lostOther, lostVictim int
	for _, x := range all {
		data, _, found, err := s.Load(ctx, x.id)
		if err != nil {
			t.Errorf("Load after recovery: %v", err)
			continue
		}
		got := string(data)
		ok := found && (got == string(payload(x.committed.Load())) || got == string(payload(x.attempted.Load())))
		if !ok {
			if x.onVictim {
				lostVictim++
			} else {
				lostOther++
			}
		}
	}

	total := reqs[0].Load() + reqs[1].Load()
	t.Logf("cluster %s, killed master %s (pid %d, %d of %d sessions on its slots), replica %s promoted",
		strings.Join(lc.Seeds, ","), victim, pid, onVictim, n, newMaster)
	t.Logf("requests: %d total (%d before the kill); other masters: %d requests, %d failed; killed master's slots: %d requests, %d failed",
		total, before, reqs[0].Load(), fails[0].Load(), reqs[1].Load(), fails[1].Load())
	t.Logf("kill -> replica promoted and cluster_state:ok: %v; kill -> last failed request on its slots: %v",
		promoted.Sub(killed).Round(time.Millisecond), recovered.Sub(killed).Round(time.Millisecond))
	t.Logf("after recovery: %d sessions on other masters lost or stale, %d on the killed master's slots lost (acknowledged writes not yet replicated)",
		lostOther, lostVictim)
	t.Logf("go-redis log lines suppressed: %d", dialLogs.Load())
	if e, ok := firstErr[1].Load().(string); ok {
		t.Logf("first error on the killed master's slots: %s", e)
	}

	if f := fails[0].Load(); f > 0 {
		t.Errorf("%d requests for sessions on the surviving masters failed (first: %v); want 0", f, firstErr[0].Load())
	}
	if v := stale.Load(); v > 0 {
		t.Errorf("%d loads on the surviving masters returned a missing or older session; want 0", v)
	}
	if lostOther > 0 {
		t.Errorf("%d committed sessions on the surviving masters were lost", lostOther)
	}
	if reqs[1].Load() == 0 || fails[1].Load() == 0 {
		t.Logf("note: no request hit the killed master's slots while it was down")
	}
}

// loggerFunc adapts a function to go-redis's logger interface.
type loggerFunc func(ctx context.Context, format string, args ...any)

func (f loggerFunc) Printf(ctx context.Context, format string, args ...any) { f(ctx, format, args...) }

// otherSeed returns a seed that is not addr.
func otherSeed(seeds []string, addr string) string {
	for _, s := range seeds {
		if s != addr {
			return s
		}
	}
	return seeds[0]
}
