package redisstore

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestNewClient checks how each URL form maps to a client, without a server.
func TestNewClient(t *testing.T) {
	for _, tc := range []struct {
		url     string
		cluster bool
		addrs   []string
		db      int
		tls     bool
		user    string
		pass    string
		dial    time.Duration
		bad     string // a part of the error, when the URL is refused
	}{
		{url: "redis://127.0.0.1:6379/2", addrs: []string{"127.0.0.1:6379"}, db: 2},
		{url: "redis://cache", addrs: []string{"cache:6379"}},
		{url: "rediss://u:p%40ss@cache:6380/0?dial_timeout=3s", addrs: []string{"cache:6380"}, tls: true, user: "u", pass: "p@ss", dial: 3 * time.Second},
		{url: "redis://a:7000?addr=b:7001&addr=c:7002", cluster: true, addrs: []string{"a:7000", "b:7001", "c:7002"}},
		{url: "redis+cluster://a:7000,b:7001,c:7002/", cluster: true, addrs: []string{"a:7000", "b:7001", "c:7002"}},
		{url: "redis+cluster://a:7000", cluster: true, addrs: []string{"a:7000"}},
		{url: "REDISS+CLUSTER://u:pw@a:7000,b:7001/0?dial_timeout=2s", cluster: true, addrs: []string{"a:7000", "b:7001"}, tls: true, user: "u", pass: "pw", dial: 2 * time.Second},
		{url: "redis+cluster://a:7000, b:7001 ,", cluster: true, addrs: []string{"a:7000", "b:7001"}},
		{url: "redis+cluster://a:7000/1", bad: "only database 0"},
		{url: "redis+cluster:///", bad: "no cluster addresses"},
		{url: "redis://a/0?no_such_option=1", bad: "no_such_option"},
		{url: "http://a", bad: "unknown scheme"},
		{url: "a:6379", bad: "missing scheme"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			c, _, err := newClient(tc.url)
			if tc.bad != "" {
				if err == nil {
					c.Close()
					t.Fatalf("newClient succeeded; want an error containing %q", tc.bad)
				}
				if !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("error %q; want it to contain %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			switch cc := c.(type) {
			case *redis.ClusterClient:
				o := cc.Options()
				if !tc.cluster {
					t.Fatal("got a cluster client; want a single-node one")
				}
				if !slices.Equal(o.Addrs, tc.addrs) || (o.TLSConfig != nil) != tc.tls || o.Username != tc.user || o.Password != tc.pass || !o.ContextTimeoutEnabled {
					t.Fatalf("options: addrs %v tls %v user %q pass set %v ctx %v", o.Addrs, o.TLSConfig != nil, o.Username, o.Password != "", o.ContextTimeoutEnabled)
				}
				if tc.dial != 0 && o.DialTimeout != tc.dial {
					t.Fatalf("dial timeout %v; want %v", o.DialTimeout, tc.dial)
				}
			case *redis.Client:
				o := cc.Options()
				if tc.cluster {
					t.Fatal("got a single-node client; want a cluster one")
				}
				if o.Addr != tc.addrs[0] || o.DB != tc.db || (o.TLSConfig != nil) != tc.tls || o.Username != tc.user || o.Password != tc.pass || !o.ContextTimeoutEnabled {
					t.Fatalf("options: addr %v db %d tls %v user %q pass set %v ctx %v", o.Addr, o.DB, o.TLSConfig != nil, o.Username, o.Password != "", o.ContextTimeoutEnabled)
				}
				if tc.dial != 0 && o.DialTimeout != tc.dial {
					t.Fatalf("dial timeout %v; want %v", o.DialTimeout, tc.dial)
				}
			default:
				t.Fatalf("got a %T", c)
			}
		})
	}
}

// TestSentinelURL checks both sentinel URL forms, without a server.
func TestSentinelURL(t *testing.T) {
	for _, tc := range []struct {
		url        string
		sentinels  []string
		master     string
		db         int
		tls        bool
		sentinelPW string
		masterPW   string
		bad        string
	}{
		{url: "redis+sentinel://a:26379,b:26379,c:26379/2?master_name=main", sentinels: []string{"a:26379", "b:26379", "c:26379"}, master: "main", db: 2},
		{url: "rediss+sentinel://u:s%40pw@a:26379?master_name=main&password=mpw", sentinels: []string{"a:26379"}, master: "main", tls: true, sentinelPW: "s@pw", masterPW: "mpw"},
		{url: "REDIS+SENTINEL://a, b:26380 ,/0?master_name=m", sentinels: []string{"a:6379", "b:26380"}, master: "m"},
		{url: "redis://a:26379?master_name=main&addr=b:26379", sentinels: []string{"a:26379", "b:26379"}, master: "main"},
		{url: "redis+sentinel://a:26379", bad: "needs master_name"},
		{url: "redis+sentinel:///?master_name=m", bad: "no sentinel addresses"},
		{url: "redis+sentinel://a:26379/x?master_name=m", bad: "invalid database number"},
		{url: "redis+sentinel://a:26379?master_name=m&no_such_option=1", bad: "no_such_option"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			o, err := sentinelOptions(tc.url)
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("error %v; want one containing %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.SentinelAddrs, tc.sentinels) || o.MasterName != tc.master || o.DB != tc.db ||
				(o.TLSConfig != nil) != tc.tls || o.SentinelPassword != tc.sentinelPW || o.Password != tc.masterPW || !o.ContextTimeoutEnabled {
				t.Fatalf("options: sentinels %v master %q db %d tls %v sentinel pass set %v master pass set %v ctx %v",
					o.SentinelAddrs, o.MasterName, o.DB, o.TLSConfig != nil, o.SentinelPassword != "", o.Password != "", o.ContextTimeoutEnabled)
			}
			c, _, err := newClient(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		})
	}
}

// TestOpenErrorKeepsChain checks that Open hides the password and keeps
// the cause for errors.As: it once flattened the error into a string.
func TestOpenErrorKeepsChain(t *testing.T) {
	_, err := Open(t.Context(), "redis://u:p%40ss@127.0.0.1:1/0?dial_timeout=200ms", Options{})
	var op *net.OpError
	if err == nil || strings.Contains(err.Error(), "p@ss") || strings.Contains(err.Error(), "p%40ss") || !errors.As(err, &op) {
		t.Fatalf("Open of an unreachable Redis: %v; want a *net.OpError without the password", err)
	}
	_, err = Open(t.Context(), "redis://u:p%40ss@127.0.0.1:1/0?scan_count=lots", Options{})
	if err == nil || !strings.Contains(err.Error(), "scan_count") || strings.Contains(err.Error(), "p@ss") {
		t.Fatalf("Open with scan_count=lots: %v", err)
	}
}

func TestEscapeGlob(t *testing.T) {
	for in, want := range map[string]string{"sess:": "sess:", `a*b?[c]\`: `a\*b\?\[c\]\\`} {
		if got := escapeGlob(in); got != want {
			t.Errorf("escapeGlob(%q) = %q; want %q", in, got, want)
		}
	}
}
