package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/middleware"
)

// apiClient is a client with no cookie jar, as a mobile app or a curl
// script is: it keeps the token itself and sends it in a header.
type apiClient struct {
	t      *testing.T
	base   string
	header string // request header; "Authorization" sends a Bearer token
	c      *http.Client
}

type apiResult struct {
	status int
	body   string
	h      http.Header
}

func (a *apiClient) do(method, path, token string, form url.Values) apiResult {
	a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		if a.header == "Authorization" {
			token = "Bearer " + token
		}
		req.Header.Set(a.header, token)
	}
	res, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return apiResult{res.StatusCode, string(b), res.Header}
}

// TestTokenHeaderEndToEnd runs the example server in header-only mode and
// drives it with a client that keeps no cookies: log in, read, renew, log
// out, all through the token header.
func TestTokenHeaderEndToEnd(t *testing.T) {
	for _, store := range []string{"memory://", "bbolt"} {
		for _, hdr := range []string{"X-Session-Token", "Authorization"} {
			t.Run(store+"/"+hdr, func(t *testing.T) {
				storeURL := store
				if store == "bbolt" {
					storeURL = "bbolt://" + filepath.Join(t.TempDir(), "sessions.db")
				}
				s := start(t, env{"SESSION_SECRET": testSecret, "SESSION_STORE": storeURL}, "-token-header", hdr, "-header-only")
				a := &apiClient{t: t, base: s.Base, header: hdr, c: &http.Client{
					Timeout:       30 * time.Second,
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
				}}
				const resp = "X-Session-Token"
				noCookie := func(what string, r apiResult) {
					t.Helper()
					if sc := r.h.Values("Set-Cookie"); len(sc) != 0 {
						t.Errorf("%s: Set-Cookie %q in header-only mode", what, sc)
					}
				}

				r := a.do("POST", "/login", "", url.Values{"user": {"ana"}})
				noCookie("login", r)
				tok := r.h.Get(resp)
				if r.status != http.StatusSeeOther || tok == "" {
					t.Fatalf("login: status %d, token %q", r.status, tok)
				}
				if _, ok := middleware.Verify(tok, []string{testSecret}); !ok {
					t.Fatalf("login token %q does not verify with the server's secret", tok)
				}

				r = a.do("GET", "/", tok, nil)
				noCookie("read", r)
				if !strings.Contains(r.body, `<b id="user">ana</b>`) {
					t.Fatalf("read with the token: not signed in:\n%s", r.body)
				}
				if v := r.h.Get("Vary"); v != hdr {
					t.Errorf("read: Vary %q, want %q", v, hdr)
				}
				if r = a.do("GET", "/", "", nil); strings.Contains(r.body, `id="user"`) {
					t.Error("signed in without a token")
				}

				r = a.do("POST", "/renew", tok, nil)
				noCookie("renew", r)
				renewed := r.h.Get(resp)
				if renewed == "" || renewed == tok {
					t.Fatalf("renew: token %q (was %q)", renewed, tok)
				}
				if r = a.do("GET", "/", tok, nil); strings.Contains(r.body, `id="user"`) {
					t.Error("the token from before renew still signs in")
				}
				if r = a.do("GET", "/", renewed, nil); !strings.Contains(r.body, `<b id="user">ana</b>`) {
					t.Error("the renewed token does not sign in")
				}

				r = a.do("POST", "/logout", renewed, nil)
				noCookie("logout", r)
				after, sent := r.h[resp]
				// Logout adds a "Signed out." flash, which starts a fresh
				// anonymous session: its token replaces the dead one.
				if !sent || len(after) != 1 || after[0] == renewed {
					t.Fatalf("logout: %s %q (sent %v), want the signed-in token replaced", resp, after, sent)
				}
				if r = a.do("GET", "/", renewed, nil); strings.Contains(r.body, `id="user"`) {
					t.Error("the token still signs in after logout")
				}
				if after[0] != "" {
					if r = a.do("GET", "/", after[0], nil); strings.Contains(r.body, `id="user"`) || !strings.Contains(r.body, "Signed out.") {
						t.Errorf("the token given at logout: %s", r.body)
					}
				}
			})
		}
	}
}

func TestHeaderOnlyNeedsTokenHeader(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig([]string{"-header-only"}, env{"SESSION_SECRET": testSecret}.get, &out)
	if err == nil {
		t.Fatal("-header-only without -token-header accepted")
	}
}
