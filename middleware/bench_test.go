package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func BenchmarkVerify(b *testing.B) {
	const id = "0123456789abcdefghijklmnopqrstuv"
	kr := newKeyring([]string{testSecret})
	cases := map[string]string{
		"encoded": kr.sign(id),
		"raw":     "s:" + id + "." + sigText(id, testSecret),
		"forged":  Sign(id, "another secret of thirty-two bytes"),
	}
	for name, v := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				kr.verify(v)
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	kr := newKeyring([]string{testSecret})
	b.ReportAllocs()
	for b.Loop() {
		kr.sign("0123456789abcdefghijklmnopqrstuv")
	}
}

// BenchmarkReadSecureMode reads a session through the middleware with the
// cookie's Secure fixed and decided per request (AutoSecure, which also
// tells the session the request's scheme), for the cost of the latter on
// the read path.
func BenchmarkReadSecureMode(b *testing.B) {
	modes := []struct {
		name  string
		mw    Config
		proto string
	}{
		{"fixed", Config{}, ""},
		{"auto", Config{AutoSecure: true}, ""},
		{"auto-proxy-https", Config{AutoSecure: true, TrustProxy: true}, "https"},
	}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			mem := memstore.New()
			b.Cleanup(func() { mem.Close() })
			mgr, err := session.New(session.Config{Store: mem, Codec: jsoncodec.New()})
			if err != nil {
				b.Fatal(err)
			}
			cfg := mode.mw
			cfg.Manager, cfg.Secrets = mgr, []string{testSecret}
			mw, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := session.GetOr(Get(r), "n", 0); err != nil {
					panic(err)
				}
				io.WriteString(w, "ok")
			}))
			seed := httptest.NewRecorder()
			mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = Get(r).Put("n", 1)
			})).ServeHTTP(seed, httptest.NewRequest("GET", "/", nil))
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", seed.Header().Get("Set-Cookie"))
			if mode.proto != "" {
				r.Header.Set("X-Forwarded-Proto", mode.proto)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 || w.Header().Get("Set-Cookie") != "" {
					b.Fatalf("status %d, Set-Cookie %q: want a read that writes nothing", w.Code, w.Header().Get("Set-Cookie"))
				}
			}
		})
	}
}
