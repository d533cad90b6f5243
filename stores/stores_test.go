package stores_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
	"github.com/sessionkit/sessionkit/stores/boltstore"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/pgstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// roundTrip saves, loads and deletes one record through st, and closes it.
func roundTrip(t *testing.T, st session.Store) {
	t.Helper()
	ctx := context.Background()
	defer func() {
		if c, ok := st.(io.Closer); ok {
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	}()
	id := session.NewID()
	exp := time.Now().Add(time.Hour)
	if err := st.Save(ctx, id, []byte(`{"cookie":{},"n":1}`), exp); err != nil {
		t.Fatalf("Save: %v", err)
	}
	data, got, found, err := st.Load(ctx, id)
	if err != nil || !found || string(data) != `{"cookie":{},"n":1}` {
		t.Fatalf("Load = %q, %v, %v; want the saved record", data, found, err)
	}
	if d := got.Sub(exp); d < -time.Second || d > time.Second {
		t.Errorf("Load expiry %v, saved %v", got, exp)
	}
	if err := st.Delete(ctx, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

func TestUnknownSchemeListsKnown(t *testing.T) {
	for _, raw := range []string{"nosuch://root@localhost/db", "", "sessions.db", "://x"} {
		_, err := stores.Open(context.Background(), raw)
		if !errors.Is(err, stores.ErrUnknownScheme) {
			t.Fatalf("Open(%q) = %v, want ErrUnknownScheme", raw, err)
		}
		for _, s := range []string{"bbolt", "memory", "postgres", "postgresql", "redis", "redis+cluster", "redis+sentinel", "rediss"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("Open(%q) error %q does not list %q", raw, err, s)
			}
		}
	}
}

func TestMemory(t *testing.T) {
	st, err := stores.Open(context.Background(), "memory://")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*memstore.Store); !ok {
		t.Fatalf("memory:// opened a %T", st)
	}
	roundTrip(t, st)

	st, err = stores.Open(context.Background(), "MEMORY://?prune_interval=off")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, st)
	for _, bad := range []string{"memory://?prune_interval=soon", "memory://?prefix=x"} {
		if _, err := stores.Open(context.Background(), bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestBbolt(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "abs.db")
	st, err := stores.Open(context.Background(), "bbolt://"+abs+"?bucket=app&prune_interval=30s&prune_batch=10&mode=0640")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.(*boltstore.Store).Path(); got != abs {
		t.Errorf("bbolt:///… opened %q, want %q", got, abs)
	}
	roundTrip(t, st)
	if fi, err := os.Stat(abs); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("file mode: %v, %v; want 0640", fi, err)
	}

	t.Chdir(dir)
	for raw, want := range map[string]string{
		"bbolt://rel.db":           filepath.Join(dir, "rel.db"),
		"bbolt:plain.db":           filepath.Join(dir, "plain.db"),
		"bbolt://sub%20dir.db?x#y": "",
	} {
		if want == "" {
			if _, err := stores.Open(context.Background(), raw); err == nil || !strings.Contains(err.Error(), `"x"`) {
				t.Errorf("Open(%q) = %v, want an unknown-parameter error", raw, err)
			}
			continue
		}
		st, err := stores.Open(context.Background(), raw)
		if err != nil {
			t.Fatalf("Open(%q): %v", raw, err)
		}
		if got := st.(*boltstore.Store).Path(); got != want {
			t.Errorf("Open(%q) opened %q, want %q", raw, got, want)
		}
		roundTrip(t, st)
	}
	if err := os.Mkdir(filepath.Join(dir, "a b"), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err = stores.Open(context.Background(), "bbolt://a%20b/c.db")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.(*boltstore.Store).Path(); got != filepath.Join(dir, "a b", "c.db") {
		t.Errorf("bbolt://a%%20b/c.db opened %q", got)
	}
	roundTrip(t, st)
	for _, bad := range []string{"bbolt://", "bbolt:///", "bbolt://x.db?prune_batch=-1", "bbolt://x.db?verify=maybe", "bbolt://x.db?on_damage=maybe", "bbolt://x.db?mode=999"} {
		if _, err := stores.Open(context.Background(), bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

// TestOpenWithNoCreate checks that a store opened for inspection creates
// nothing, and that the store's error keeps its cause through Open.
func TestOpenWithNoCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := stores.OpenWith(context.Background(), "bbolt://"+path, stores.Options{NoCreate: true})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenWith(NoCreate) of a missing file: %v; want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenWith(NoCreate) created the file: %v", err)
	}
	st, err := stores.Open(context.Background(), "bbolt://"+path+"?bucket=app")
	if err != nil {
		t.Fatal(err)
	}
	st.(io.Closer).Close()
	_, err = stores.OpenWith(context.Background(), "bbolt://"+path+"?bucket=other", stores.Options{NoCreate: true})
	if err == nil || !strings.Contains(err.Error(), `holds no sessions under bucket "other"`) {
		t.Errorf("OpenWith(NoCreate) with another bucket: %v", err)
	}
	st, err = stores.OpenWith(context.Background(), "bbolt://"+path+"?bucket=app", stores.Options{NoCreate: true})
	if err != nil {
		t.Fatalf("OpenWith(NoCreate) of an existing store: %v", err)
	}
	st.(io.Closer).Close()
}

func TestPostgres(t *testing.T) {
	pool := pgtest.Pool(t, nil)
	schema := pgtest.Schema(t, pool)
	u, err := url.Parse(pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("schema", schema)
	q.Set("table", "web_sessions")
	q.Set("create_table", "true")
	q.Set("prune_interval", "off")
	q.Set("user_key", "uid")
	u.RawQuery = q.Encode()
	for _, scheme := range []string{"postgres", "postgresql"} {
		u.Scheme = scheme
		st, err := stores.Open(context.Background(), u.String())
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		ps, ok := st.(*pgstore.Store)
		if !ok {
			t.Fatalf("%s opened a %T", scheme, st)
		}
		if want := `"` + schema + `"."web_sessions"`; ps.Table() != want {
			t.Errorf("Table() = %s, want %s", ps.Table(), want)
		}
		roundTrip(t, st)
	}
	q.Set("prune_batch", "zero")
	u.RawQuery = q.Encode()
	if _, err := stores.Open(context.Background(), u.String()); err == nil || !strings.Contains(err.Error(), "prune_batch") {
		t.Errorf("a bad prune_batch gave %v", err)
	}
}

func TestRedis(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	u, err := url.Parse(redistestURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("prefix", prefix)
	q.Set("user_prefix", redistest.Prefix(t, c))
	q.Set("scan_count", "50")
	q.Set("dial_timeout", "2s") // go-redis's own parameter passes through
	u.RawQuery = q.Encode()
	st, err := stores.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	if rs, ok := st.(*redisstore.Store); !ok || rs.Prefix() != prefix {
		t.Fatalf("opened %T with the wrong prefix", st)
	}
	roundTrip(t, st)
}

func TestRedisCluster(t *testing.T) {
	seeds := redistest.ClusterSeeds(t)
	cc := redistest.ClusterOf(t, seeds)
	prefix := redistest.Prefix(t, cc)
	forms := []string{
		"redis+cluster://" + strings.Join(seeds, ",") + "/?prefix=" + url.QueryEscape(prefix),
		"redis://" + seeds[0] + "?addr=" + strings.Join(seeds[1:], "&addr=") + "&prefix=" + url.QueryEscape(prefix),
	}
	for _, raw := range forms {
		st, err := stores.Open(context.Background(), raw)
		if err != nil {
			t.Fatalf("Open(%q): %v", raw, err)
		}
		if _, ok := st.(*redisstore.Store).Client().(*redis.ClusterClient); !ok {
			t.Errorf("Open(%q) made a %T, want a Cluster client", raw, st.(*redisstore.Store).Client())
		}
		roundTrip(t, st)
	}
}

func redistestURL() string {
	if u := os.Getenv("SESSIONKIT_REDIS_URL"); u != "" {
		return u
	}
	return redistest.DefaultURL
}

func TestPasswordNeverShown(t *testing.T) {
	const pw = "hunter2-S3CRET"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	urls := []string{
		"postgres://app:" + pw + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"postgresql://app:" + pw + "@127.0.0.1:notaport/db",
		"postgres://app@127.0.0.1:1/db?sslmode=disable&connect_timeout=2&password=" + pw,
		"postgres://app:" + pw + "@127.0.0.1:1/db?prune_batch=x",
		"redis://:" + pw + "@127.0.0.1:1/0?dial_timeout=1s",
		"redis://default:" + pw + "@127.0.0.1:1/0?bogus=1",
		"rediss://:" + pw + "@[::1/0",
		"redis+cluster://u:" + pw + "@127.0.0.1:1,127.0.0.1:2/?dial_timeout=1s",
		"redis+sentinel://u:" + pw + "@127.0.0.1:1,127.0.0.1:2/?master_name=m&dial_timeout=1s&dialer_retries=1&max_retries=-1",
		"redis+sentinel://127.0.0.1:1/?master_name=m&dial_timeout=1s&dialer_retries=1&max_retries=-1&password=" + pw,
		"redis://u:" + url.QueryEscape(pw+"/?#") + "@127.0.0.1:1/0?dial_timeout=1s",
		"postgres://app@127.0.0.1:1/db?sslmode=disable&connect_timeout=2&password=100%25" + pw,
		"postgres://app:100%25" + pw + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"nosuch://u:" + pw + "@127.0.0.1/db",
		"host=127.0.0.1 port=1 user=app password=" + pw + " connect_timeout=2 sslmode=disable",
	}
	for _, raw := range urls {
		_, err := stores.Open(ctx, raw)
		if err == nil {
			t.Errorf("Open(%s) succeeded", stores.Redact(raw))
			continue
		}
		if strings.Contains(err.Error(), "S3CRET") {
			t.Errorf("Open error shows the password: %v", err)
		}
		if r := stores.Redact(raw); strings.Contains(r, "S3CRET") || !strings.Contains(r, "xxxxx") {
			t.Errorf("Redact(…) = %q", r)
		}
	}
	// pgstore takes a key=value connection string too.
	for _, raw := range []string{
		"host=127.0.0.1 port=1 user=app password=" + pw + " connect_timeout=2 sslmode=disable",
		"host=127.0.0.1 port=1 user=app password='100% " + pw + "' connect_timeout=2 sslmode=disable",
	} {
		_, err := pgstore.Open(ctx, raw, pgstore.Options{})
		if err == nil || strings.Contains(err.Error(), "S3CRET") {
			t.Errorf("pgstore.Open of a key=value string: %v", err)
		}
	}
}

func TestRegister(t *testing.T) {
	var got string
	stores.Register("Custom", func(ctx context.Context, raw string, o stores.Options) (session.Store, error) {
		got = raw
		return memstore.New(), nil
	})
	st, err := stores.Open(context.Background(), "custom://anything?x=1")
	if err != nil {
		t.Fatal(err)
	}
	if got != "custom://anything?x=1" {
		t.Errorf("opener saw %q", got)
	}
	roundTrip(t, st)

	stores.Register("failing", func(ctx context.Context, raw string, o stores.Options) (session.Store, error) {
		return nil, errors.New("cannot log in with " + raw)
	})
	_, err = stores.Open(context.Background(), "failing://u:pa55w0rd@h")
	if err == nil || strings.Contains(err.Error(), "pa55w0rd") || !strings.Contains(err.Error(), "u:xxxxx@h") {
		t.Errorf("a third-party opener's error is not redacted: %v", err)
	}
	if !strings.Contains(strings.Join(stores.Schemes(), ","), "custom") {
		t.Errorf("Schemes() = %v lacks custom", stores.Schemes())
	}
}

func TestBackend(t *testing.T) {
	for raw, want := range map[string]string{
		"postgresql://x": "postgres", "REDISS://x": "redis", "redis+cluster://a,b": "redis", "rediss+sentinel://a,b": "redis",
		"bbolt://x.db": "bbolt", "memory://": "memory", "custom://": "custom",
	} {
		if got := stores.Backend(raw); got != want {
			t.Errorf("Backend(%q) = %q, want %q", raw, got, want)
		}
	}
}
