// Package redistest connects tests to real Redis servers: the single node of
// SESSIONKIT_REDIS_URL, the Cluster of SESSIONKIT_REDIS_CLUSTER, the
// Sentinel-watched master of SESSIONKIT_REDIS_SENTINEL, or a throwaway
// Cluster started by scripts/redis-cluster.sh. It also hands out
// random key prefixes whose keys are deleted when the test ends.
//
// When a server is unreachable the test fails if CI is "true" and is skipped
// with a one-line hint otherwise.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is the Redis a test uses when SESSIONKIT_REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Unavailable fails the test in CI and skips it elsewhere, with hint saying
// how to make the server available.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Client returns a client of the Redis at SESSIONKIT_REDIS_URL (default
// DefaultURL), closed when the test ends.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	u := os.Getenv("SESSIONKIT_REDIS_URL")
	if u == "" {
		u = DefaultURL
	}
	o, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("SESSIONKIT_REDIS_URL: %v", err)
	}
	o.ContextTimeoutEnabled = true
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		Unavailable(t, "redis at %s unreachable (%v); start redis-server or set SESSIONKIT_REDIS_URL", o.Addr, err)
	}
	return c
}

// ClusterSeeds returns the addresses in SESSIONKIT_REDIS_CLUSTER, failing or
// skipping the test when it is unset.
func ClusterSeeds(t testing.TB) []string {
	t.Helper()
	v := os.Getenv("SESSIONKIT_REDIS_CLUSTER")
	var seeds []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		Unavailable(t, "SESSIONKIT_REDIS_CLUSTER is unset; run: export SESSIONKIT_REDIS_CLUSTER=$(scripts/redis-cluster.sh start | tail -n 1)")
	}
	return seeds
}

// SentinelURL returns SESSIONKIT_REDIS_SENTINEL, a redis+sentinel:// URL
// such as scripts/redis-sentinel.sh prints, failing or skipping the test
// when it is unset.
func SentinelURL(t testing.TB) string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv("SESSIONKIT_REDIS_SENTINEL"))
	if v == "" {
		Unavailable(t, "SESSIONKIT_REDIS_SENTINEL is unset; run: export SESSIONKIT_REDIS_SENTINEL=$(scripts/redis-sentinel.sh start | tail -n 1)")
	}
	return v
}

// Cluster returns a client of the Redis Cluster seeded by
// SESSIONKIT_REDIS_CLUSTER, closed when the test ends.
func Cluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	return ClusterOf(t, ClusterSeeds(t))
}

// ClusterOf returns a client of the Cluster seeded by addrs, closed when the
// test ends, after checking that the cluster is up.
func ClusterOf(t testing.TB, addrs []string) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		return n.Ping(ctx).Err()
	})
	if err == nil {
		var info string
		info, err = c.ClusterInfo(ctx).Result()
		if err == nil && !strings.Contains(info, "cluster_state:ok") {
			err = fmt.Errorf("cluster_state is not ok")
		}
	}
	if err != nil {
		Unavailable(t, "redis cluster at %s unreachable (%v); run: export SESSIONKIT_REDIS_CLUSTER=$(scripts/redis-cluster.sh start | tail -n 1)", strings.Join(addrs, ","), err)
	}
	return c
}

// Prefix returns a fresh key prefix such as "sktest:1f2e3d4c5b6a7988:" and
// deletes every key under it, on every master, when the test ends. It never
// flushes a database.
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	p := "sktest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := DeletePrefix(ctx, c, p); err != nil {
			t.Logf("redistest: cleanup of prefix %s: %v", p, err)
		}
	})
	return p
}

// DeletePrefix deletes every key that starts with prefix (SCAN + DEL per
// master).
func DeletePrefix(ctx context.Context, c redis.UniversalClient, prefix string) error {
	del := func(ctx context.Context, n redis.Cmdable) error {
		iter := n.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return err
		}
		// One key per DEL (a Cluster master's keys span many slots), sent
		// in pipelined batches so a large prefix is gone in a few round trips.
		for len(keys) > 0 {
			batch := keys[:min(len(keys), 500)]
			keys = keys[len(batch):]
			_, err := n.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range batch {
					p.Del(ctx, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	switch cc := c.(type) {
	case *redis.ClusterClient:
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return del(ctx, n) })
	default:
		return del(ctx, c)
	}
}

// LocalCluster is a Cluster of 3 masters and 3 replicas that this test
// started with scripts/redis-cluster.sh and stops when it ends.
type LocalCluster struct {
	Base  int      // first port; the nodes listen on Base..Base+5
	Dir   string   // the nodes' files, one directory per port
	Seeds []string // host:port of every node
}

// StartCluster starts a private Cluster on 127.0.0.1:base..base+5 and
// registers its stop (and the removal of its files) with t.Cleanup, so it
// stops even when the test fails. It fails in CI, and skips elsewhere, when
// redis-server or redis-cli is not installed.
func StartCluster(t testing.TB, base int) *LocalCluster {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			Unavailable(t, "%s is not installed; install redis-server (apt-get install redis-server)", bin)
		}
	}
	script := scriptPath(t)
	dir := filepath.Join(t.TempDir(), "cluster")
	env := append(os.Environ(), "SESSIONKIT_REDIS_CLUSTER_DIR="+dir)
	lc := &LocalCluster{Base: base, Dir: dir}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cmd := exec.Command("bash", script, "stop", strconv.Itoa(base))
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Logf("redistest: stopping cluster %d: %v\n%s", base, err, out)
			}
		})
	}
	t.Cleanup(stop)
	cmd := exec.Command("bash", script, "start", strconv.Itoa(base))
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("redis-cluster.sh start %d: %v\n%s", base, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	lc.Seeds = strings.Split(lines[len(lines)-1], ",")
	return lc
}

// PID returns the process id of the node on port, read from the pid file the
// script keeps.
func (lc *LocalCluster) PID(port int) (int, error) {
	b, err := os.ReadFile(filepath.Join(lc.Dir, strconv.Itoa(port), "redis.pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// scriptPath finds scripts/redis-cluster.sh from this file's location, so
// tests of any package can run it.
func scriptPath(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("redistest: cannot locate scripts/redis-cluster.sh")
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "redis-cluster.sh")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return p
}
