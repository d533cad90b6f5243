package middleware

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// TestLoadFailureThenChangeIsNeverA200 serves the README's handler shape,
// which ignores the error of Put, while loads fail: a request that tried to
// change its session must get the error handler's 503, never a 200 that
// saved nothing. A request that only read its session is the handler's to
// answer.
func TestLoadFailureThenChangeIsNeverA200(t *testing.T) {
	visits := func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		n, _ := session.GetOr(s, "visits", 0)
		s.Put("visits", n+1)
		fmt.Fprintf(w, "visit %d\n", n+1)
	}
	readOnly := func(w http.ResponseWriter, r *http.Request) {
		if _, err := session.GetOr(Get(r), "visits", 0); err != nil {
			http.Error(w, "try later", http.StatusTeapot)
			return
		}
		fmt.Fprintln(w, "ok")
	}
	tests := []struct {
		name     string
		h        http.HandlerFunc
		cookie   string // "seeded", "unknown" or none
		wantCode int
	}{
		{"put, existing session", visits, "seeded", http.StatusServiceUnavailable},
		{"put, unknown session", visits, "unknown", http.StatusServiceUnavailable},
		{"read only", readOnly, "seeded", http.StatusTeapot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			var cookies []string
			switch tt.cookie {
			case "seeded":
				cookies = append(cookies, f.seed(t, "existing-session-id", map[string]any{"visits": 4}))
			case "unknown":
				cookies = append(cookies, f.mgr.Config().Cookie.Name+"="+Sign("unknown-session-id", testSecret))
			}
			f.store.setFail(session.OpLoad, opError)
			w := f.serve(tt.h, "GET", "/", cookies...)
			if w.Code != tt.wantCode {
				t.Fatalf("status %d %q, want %d", w.Code, w.Body.String(), tt.wantCode)
			}
			if f.store.saves.Load() != 0 {
				t.Fatalf("%d saves after a failed load", f.store.saves.Load())
			}
		})
	}
}

// TestStoreUnavailableIs503 checks that what a store reports as
// session.ErrUnavailable (a server shutting down or starting up, whatever
// its driver's error) is answered 503, which a load balancer may retry.
func TestStoreUnavailableIs503(t *testing.T) {
	f := newFixture(t, nil)
	f.store.setFail(session.OpSave, fmt.Errorf("postgres: save: %w: FATAL: the database system is starting up (SQLSTATE 57P03)", session.ErrUnavailable))
	w := f.serve(func(w http.ResponseWriter, r *http.Request) { Get(r).Put("a", 1) }, "GET", "/")
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", w.Code)
	}
}
