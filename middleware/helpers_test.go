package middleware

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// testSecret is 32 bytes, the shortest New accepts.
const testSecret = "0123456789abcdef0123456789abcdef"

// countingStore counts the calls made to the store it wraps and can be made
// to fail them.
type countingStore struct {
	session.Store
	loads, saves, touches, deletes atomic.Int64

	mu   sync.Mutex
	fail map[session.Op]error
}

func (c *countingStore) calls() int64 {
	return c.loads.Load() + c.saves.Load() + c.touches.Load() + c.deletes.Load()
}

func (c *countingStore) setFail(op session.Op, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail == nil {
		c.fail = map[session.Op]error{}
	}
	c.fail[op] = err
}

func (c *countingStore) failure(op session.Op) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fail[op]
}

func (c *countingStore) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	c.loads.Add(1)
	if err := c.failure(session.OpLoad); err != nil {
		return nil, time.Time{}, false, err
	}
	return c.Store.Load(ctx, id)
}

func (c *countingStore) Save(ctx context.Context, id string, data []byte, exp time.Time) error {
	c.saves.Add(1)
	if err := c.failure(session.OpSave); err != nil {
		return err
	}
	return c.Store.Save(ctx, id, data, exp)
}

func (c *countingStore) Touch(ctx context.Context, id string, exp time.Time) error {
	c.touches.Add(1)
	if err := c.failure(session.OpTouch); err != nil {
		return err
	}
	return c.Store.Touch(ctx, id, exp)
}

func (c *countingStore) Delete(ctx context.Context, id string) error {
	c.deletes.Add(1)
	if err := c.failure(session.OpDelete); err != nil {
		return err
	}
	return c.Store.Delete(ctx, id)
}

// fixture is a Middleware over a counting memory store.
type fixture struct {
	store *countingStore
	mgr   *session.Manager
	mw    *Middleware
	logs  *strings.Builder
}

// newFixture builds a fixture; edit may change the session and middleware
// configuration before they are built.
func newFixture(t *testing.T, edit func(*session.Config, *Config)) *fixture {
	t.Helper()
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	f := &fixture{store: &countingStore{Store: mem}, logs: &strings.Builder{}}
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, f.logs}, nil))
	scfg := session.Config{Store: f.store, Codec: jsoncodec.New(), Logger: logger}
	mcfg := Config{Secrets: []string{testSecret}}
	if edit != nil {
		edit(&scfg, &mcfg)
	}
	mgr, err := session.New(scfg)
	if err != nil {
		t.Fatalf("session.New: %v", err)
	}
	mcfg.Manager = mgr
	mw, err := New(mcfg)
	if err != nil {
		t.Fatalf("middleware.New: %v", err)
	}
	f.mgr, f.mw = mgr, mw
	return f
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// serve runs one request through the middleware and h.
func (f *fixture) serve(h http.HandlerFunc, method, target string, cookies ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for _, c := range cookies {
		r.Header.Add("Cookie", c)
	}
	w := httptest.NewRecorder()
	f.mw.Handler(h).ServeHTTP(w, r)
	return w
}

// seed saves a session holding values under id straight into the store and
// returns the cookie pair that names it.
func (f *fixture) seed(t *testing.T, id string, values map[string]any) string {
	t.Helper()
	// A fresh expiry, so that reading the session does not touch it.
	exp := time.Now().Add(f.mgr.Config().IdleTimeout)
	st := &session.State{Values: values}
	data, err := f.mgr.Codec().Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Store.Save(context.Background(), id, data, exp); err != nil {
		t.Fatal(err)
	}
	return f.mgr.Config().Cookie.Name + "=" + Sign(id, testSecret)
}

// setCookies returns the response's Set-Cookie headers.
func setCookies(w *httptest.ResponseRecorder) []string {
	return w.Result().Header.Values("Set-Cookie")
}

// cookieID returns the session ID in a Set-Cookie header value.
func cookieID(t *testing.T, setCookie string) string {
	t.Helper()
	pair, _, _ := strings.Cut(setCookie, ";")
	_, v, _ := strings.Cut(pair, "=")
	id, ok := Verify(v, []string{testSecret})
	if !ok {
		t.Fatalf("Set-Cookie %q does not verify", setCookie)
	}
	return id
}

// stored reports whether the store holds a live record under id.
func (f *fixture) stored(t *testing.T, id string) bool {
	t.Helper()
	_, _, found, err := f.store.Store.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return found
}
