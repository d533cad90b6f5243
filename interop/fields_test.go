package interop

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

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
