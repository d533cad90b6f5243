package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/stores/memory"
)

const testSecret = "0123456789abcdef0123456789abcdef-example"

// startApp serves the app on a loopback port until the test ends.
func startApp(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, memory.New(), []string{testSecret}, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (b *browser) do(method, path string, form url.Values) string {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("%s %s: %s: %s", method, path, resp.Status, page)
	}
	return string(page)
}

func (b *browser) cookie() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

func wantIn(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Fatalf("page lacks %q:\n%s", w, page)
		}
	}
}

func TestExampleFlow(t *testing.T) {
	base := startApp(t)
	a := newBrowser(t, base)
	wantIn(t, a.do("GET", "/", nil), `id="login-btn"`)
	if a.cookie() != "" {
		t.Error("an anonymous visit got a session cookie")
	}
	wantIn(t, a.do("POST", "/login", url.Values{"user": {"ana"}}), `<b id="user">ana</b>`, `<b id="count">0</b>`, "Welcome, ana.")
	a.do("POST", "/count", url.Values{})
	wantIn(t, a.do("POST", "/count", url.Values{}), `<b id="count">2</b>`)

	before := a.cookie()
	wantIn(t, a.do("POST", "/renew", url.Values{}), `<b id="count">2</b>`, "new ID")
	if after := a.cookie(); after == before || after == "" {
		t.Error("renew did not change the session cookie")
	}

	b := newBrowser(t, base)
	b.do("POST", "/login", url.Values{"user": {"ana"}})
	page := a.do("GET", "/", nil)
	if n := strings.Count(page, "<li>"); n != 2 {
		t.Fatalf("ana's session list shows %d sessions, want 2:\n%s", n, page)
	}
	wantIn(t, a.do("POST", "/revoke-others", url.Values{}), "Signed out 1 other session(s).")
	wantIn(t, b.do("GET", "/", nil), `id="login-btn"`)

	wantIn(t, a.do("POST", "/logout", url.Values{}), "Signed out.", `id="login-btn"`)
}
