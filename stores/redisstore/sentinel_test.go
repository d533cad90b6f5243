package redisstore_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// sentinelSetup opens the master that SESSIONKIT_REDIS_SENTINEL names
// (scripts/redis-sentinel.sh starts one) and returns its failover client,
// closed when the test ends, with the Sentinels' addresses and the master's
// name.
func sentinelSetup(t *testing.T) (redis.UniversalClient, []string, string) {
	t.Helper()
	raw := redistest.SentinelURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	owner, err := redisstore.Open(ctx, raw, redisstore.Options{})
	if err != nil {
		redistest.Unavailable(t, "redis sentinel at %s: %v; run: export SESSIONKIT_REDIS_SENTINEL=$(scripts/redis-sentinel.sh start | tail -n 1)", raw, err)
	}
	t.Cleanup(func() { _ = owner.Close() })
	_, rest, _ := strings.Cut(raw, "://")
	hosts, query, _ := strings.Cut(rest, "?")
	hosts, _, _ = strings.Cut(hosts, "/")
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	return owner.Client(), strings.Split(hosts, ","), q.Get("master_name")
}

func TestConformanceSentinel(t *testing.T) {
	c, _, _ := sentinelSetup(t)
	conformance.Run(t, harness(c))
}

// TestOpenSentinel opens the master in both URL forms.
func TestOpenSentinel(t *testing.T) {
	_, sentinels, name := sentinelSetup(t)
	ctx := context.Background()
	for _, u := range []string{
		"redis+sentinel://" + strings.Join(sentinels, ",") + "/0?master_name=" + url.QueryEscape(name),
		"redis://" + sentinels[0] + "?master_name=" + url.QueryEscape(name) + "&addr=" + strings.Join(sentinels[1:], "&addr="),
	} {
		s, err := redisstore.Open(ctx, u, redisstore.Options{})
		if err != nil {
			t.Fatalf("Open(%s): %v", u, err)
		}
		if _, err := s.Count(ctx); err != nil {
			t.Fatalf("Count on %s: %v", u, err)
		}
		_ = s.Close()
	}
	if _, err := redisstore.Open(ctx, "redis+sentinel://"+strings.Join(sentinels, ",")+"/0?master_name=no-such-master&dialer_retries=1&max_retries=-1", redisstore.Options{}); err == nil {
		t.Fatal("Open with an unknown master name succeeded")
	}
}

// TestSentinelFailover forces a Sentinel failover while a loop saves and
// loads sessions: the client must follow the new master, the loop must
// recover, and every session replicated before the failover must still be
// there, unchanged. Writes acknowledged by the old master in the moment of
// the switch may be lost (Redis replicates asynchronously); the test
// reports how many.
func TestSentinelFailover(t *testing.T) {
	c, sentinels, name := sentinelSetup(t)
	s := newStore(t, c)
	ctx := context.Background()

	const seeded = 200
	exp := time.Now().Add(time.Hour)
	ids := make([]string, seeded)
	for i := range ids {
		ids[i] = newID(t)
		if err := s.Save(ctx, ids[i], []byte(fmt.Sprintf(`{"n":%d}`, i)), exp); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n < 1 {
		t.Fatalf("WAIT for the replica: %d, %v", n, err)
	}

	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinels[0]})
	defer sc.Close()
	before, err := sc.GetMasterAddrByName(ctx, name).Result()
	if err != nil {
		t.Fatal(err)
	}

	var (
		stop                atomic.Bool
		ops, fails, wrong   atomic.Int64
		okStreak            atomic.Int64
		mu                  sync.Mutex
		saved               []string    // saves that returned nil during the loop
		savedAt             []time.Time // when each returned
		firstFail, lastFail time.Time
	)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			ops.Add(1)
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			id := newID(t)
			err := s.Save(cctx, id, []byte(`{"loop":true}`), exp)
			var data []byte
			var found bool
			if err == nil {
				k := i % seeded
				data, _, found, err = s.Load(cctx, ids[k])
				if err == nil && (!found || string(data) != fmt.Sprintf(`{"n":%d}`, k)) {
					wrong.Add(1)
				}
			}
			cancel()
			if err != nil {
				fails.Add(1)
				okStreak.Store(0)
				mu.Lock()
				if firstFail.IsZero() {
					firstFail = time.Now()
				}
				lastFail = time.Now()
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
				continue
			}
			okStreak.Add(1)
			mu.Lock()
			saved = append(saved, id)
			savedAt = append(savedAt, time.Now())
			mu.Unlock()
		}
	})

	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := sc.Failover(ctx, name).Err(); err != nil {
		stop.Store(true)
		wg.Wait()
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	var after []string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if after, err = sc.GetMasterAddrByName(ctx, name).Result(); err == nil && strings.Join(after, ":") != strings.Join(before, ":") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	switched := time.Since(start)
	switchSeen := time.Now()
	okStreak.Store(0) // count successes from the switch on
	// Recovered: 200 loop iterations in a row without an error.
	for time.Now().Before(deadline) && okStreak.Load() < 200 {
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if strings.Join(after, ":") == strings.Join(before, ":") {
		t.Fatalf("the master is still %v a minute after SENTINEL FAILOVER", before)
	}
	if okStreak.Load() < 200 {
		t.Fatalf("the loop did not recover within a minute: %d ops, %d failed", ops.Load(), fails.Load())
	}
	if n := wrong.Load(); n > 0 {
		t.Fatalf("%d loads returned a missing or wrong session", n)
	}
	for k, id := range ids {
		data, _, found, err := s.Load(ctx, id)
		if err != nil || !found || string(data) != fmt.Sprintf(`{"n":%d}`, k) {
			t.Fatalf("seeded session %d after the failover: %q, found %v, %v", k, data, found, err)
		}
	}
	// Saves the old master took between the promotion and the switch are
	// discarded when it rejoins as a replica; a save that returned once the
	// Sentinels had announced the new master, plus two seconds for the client
	// to hear of it, went to the new master and must be there.
	lost := 0
	for i, id := range saved {
		if _, _, found, err := s.Load(ctx, id); err != nil {
			t.Fatal(err)
		} else if !found {
			lost++
			if savedAt[i].Before(start) {
				t.Errorf("a save that returned before the failover was requested is lost")
			}
			if savedAt[i].After(switchSeen.Add(2 * time.Second)) {
				t.Errorf("a save that returned %v after the new master was announced is lost: the client kept writing to the old one",
					savedAt[i].Sub(switchSeen).Round(time.Millisecond))
			}
		}
	}
	window := time.Duration(0)
	if !firstFail.IsZero() {
		window = lastFail.Sub(firstFail)
	}
	t.Logf("master %v -> %v announced %v after SENTINEL FAILOVER; %d loop iterations, %d failed over %v; %d of the %d sessions the loop saved were discarded in the switch; all %d replicated beforehand intact",
		before, after, switched.Round(time.Millisecond), ops.Load(), fails.Load(), window.Round(time.Millisecond), lost, len(saved), seeded)
}
