package promcollector

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// TestForeignKeys exports what a Redis store counted of keys of another type
// under its session prefix (another application's data on a shared Redis).
func TestForeignKeys(t *testing.T) {
	c := redistest.Client(t)
	p := redistest.Prefix(t, c)
	st, err := redisstore.New(c, redisstore.Options{Prefix: p + "sess:", UserPrefix: p + "user:"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.HSet(ctx, p+"sess:not-a-session", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, found, err := st.Load(ctx, "not-a-session"); err != nil || found {
		t.Fatalf("Load = %v, %v", found, err)
	}
	_, reg := newCollector(t, Config{Backend: "redis", Store: st})
	want := `
# HELP sessionkit_store_foreign_keys_total Keys under the session prefix holding another type than a session (another application's data), met by loads and iterations.
# TYPE sessionkit_store_foreign_keys_total counter
sessionkit_store_foreign_keys_total{backend="redis"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "sessionkit_store_foreign_keys_total"); err != nil {
		t.Error(err)
	}
}
