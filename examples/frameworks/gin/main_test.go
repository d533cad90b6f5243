package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testSecret = "test secret, 32 bytes or longer.."

// visit serves GET / with the cookie c, if any, and returns the body and
// the session cookie set.
func visit(t *testing.T, h http.Handler, c *http.Cookie) (string, *http.Cookie) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if c != nil {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /: status %d: %s", rec.Code, rec.Body)
	}
	for _, set := range rec.Result().Cookies() {
		if set.Name == "session" {
			return rec.Body.String(), set
		}
	}
	return rec.Body.String(), nil
}

func TestCounterPersists(t *testing.T) {
	mw, err := newMiddleware(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Manager().Close() }) // stops the store's pruning goroutine
	h := newEngine(mw)

	body, c := visit(t, h, nil)
	if !strings.Contains(body, "visits: 1") || c == nil {
		t.Fatalf("first visit: %q, cookie %v; want visits: 1 and a session cookie", body, c)
	}
	if body, _ = visit(t, h, c); !strings.Contains(body, "visits: 2") {
		t.Fatalf("second visit with the cookie: %q; want visits: 2", body)
	}
	if body, _ = visit(t, h, nil); !strings.Contains(body, "visits: 1") {
		t.Fatalf("a visit without the cookie: %q; want a new session at visits: 1", body)
	}
}

func TestShortSecretRefused(t *testing.T) {
	if _, err := newMiddleware(""); err == nil {
		t.Fatal("newMiddleware accepted an empty secret")
	}
}
