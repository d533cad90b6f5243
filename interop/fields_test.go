package interop

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// TestPostgresRevokeNumberUser has the Node app store userId = 2**60, which
// JSON.stringify writes as 1152921504606847000 (float64 prints it as …6976):
// Go revokes that user by the text Node wrote, whether or not Go has read the
// session before.
func TestPostgresRevokeNumberUser(t *testing.T) {
	const user = "1152921504606847000"
	e := newPGEnvOptions(t, "", pgstore.Options{UserKey: "userId"})
	node := e.node(t, time.Hour, []string{secretNew}, nil).wait().URL
	srv, m := goAppManager(t, session.Config{Store: e.store, IdleTimeout: time.Hour, UserKey: "userId"}, secretNew)

	var browsers []*browser
	for _, readByGo := range []bool{false, true} {
		b := newBrowser(t)
		sid := b.login(node, "big")
		b.must(200, "POST", node+"/set", json.RawMessage(`{"userId":`+user+`}`))
		if sess, _ := e.mustRow(t, sid); !strings.Contains(sess, `"userId":`+user) {
			t.Fatalf("Node stored %s; want userId %s", sess, user)
		}
		if readByGo {
			b.must(200, "GET", srv.URL+"/session", nil)
		}
		browsers = append(browsers, b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := m.RevokeUser(ctx, user)
	if err != nil || n != len(browsers) {
		t.Fatalf("RevokeUser(%s) = %d, %v; want %d", user, n, err, len(browsers))
	}
	for i, b := range browsers {
		if r := b.do("GET", node+"/session", nil); r.Status != 401 {
			t.Errorf("session %d of the revoked user is still served by Node: status %d", i, r.Status)
		}
	}
}

// TestPostgresSecureField logs the same user in on a Node app whose cookie
// option is secure: 'auto' (served over http, so express-session stores
// "secure":false) and on Go without Secure: the documents are the same. The
// default Node app (secure: false) is compared in TestPostgresBothWays.
func TestPostgresSecureField(t *testing.T) {
	e := newPGEnv(t, "")
	node := e.node(t, time.Hour, []string{secretNew}, map[string]string{"COOKIE_SECURE": "auto"}).wait().URL
	goURL := e.goApp(t, time.Hour, 0, secretNew).URL
	sameDocument(t, node, goURL, func(t *testing.T, id string) string { return first(e.mustRow(t, id)) })
}

// TestPostgresAutoSecure runs both apps with the cookie secure only on HTTPS
// (express-session's secure: 'auto', the middleware's AutoSecure) behind a
// proxy they trust, HTTPS standing as X-Forwarded-Proto: https. Each step
// runs on both sides and must store the same document: a login over one
// scheme stores "secure" as that request saw it; a change over the other
// scheme keeps what the record says (express-session decides it when it
// creates the session); a renewal over the other scheme decides it afresh.
func TestPostgresAutoSecure(t *testing.T) {
	e := newPGEnv(t, "")
	pending := e.node(t, time.Hour, []string{secretNew}, map[string]string{"COOKIE_SECURE": "auto", "TRUST_PROXY": "1"})
	mgr, err := session.New(express.Config(session.Config{Store: e.store, IdleTimeout: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secretNew}, AutoSecure: true, TrustProxy: true})
	if err != nil {
		t.Fatal(err)
	}
	goURL := goAppServe(t, mw).URL
	node := pending.wait().URL

	for _, scheme := range []string{"https", "http"} {
		other := map[string]string{"https": "http", "http": "https"}[scheme]
		t.Run("login-over-"+scheme, func(t *testing.T) {
			type side struct {
				name, url string
				b         *browser
				id        string
			}
			sides := []*side{{name: "node", url: node}, {name: "go", url: goURL}}
			for _, s := range sides {
				s.b = newBrowser(t)
			}
			steps := []struct {
				what, proto, method, path string
				body                      any
				secure                    bool
			}{
				{"login", scheme, "POST", "/login?user=grace", nil, scheme == "https"},
				{"change", other, "POST", "/set", map[string]any{"visits": 1}, scheme == "https"},
				{"renew", other, "POST", "/renew", nil, other == "https"},
			}
			for _, st := range steps {
				docs := map[string]string{}
				for _, s := range sides {
					s.b.proto = st.proto
					r := s.b.must(200, st.method, s.url+st.path, st.body)
					var out struct{ SessionID string }
					if err := json.Unmarshal(r.Body, &out); err != nil || out.SessionID == "" {
						t.Fatalf("%s %s at %s: body %s", st.method, st.path, s.name, r.Body)
					}
					s.id = out.SessionID
					docs[s.name] = first(e.mustRow(t, s.id))
					t.Logf("%s over %s: %s stored %s", st.what, st.proto, s.name, docs[s.name])
				}
				want := `"secure":` + strconv.FormatBool(st.secure)
				if !strings.Contains(docs["node"], want) {
					t.Fatalf("%s over %s: Node stored %s; the test expects %s", st.what, st.proto, docs["node"], want)
				}
				if n, g := normalizeDoc(docs["node"]), normalizeDoc(docs["go"]); n != g {
					t.Fatalf("%s over %s stores different documents (expiry and metadata masked):\nnode %s\n  go %s", st.what, st.proto, n, g)
				}
			}
		})
	}
}
