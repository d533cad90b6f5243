package middleware

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// A request whose session is ended by another request while it runs (here:
// deleted, as a logout elsewhere would) writes nothing, keeps the cookie
// alone and still sends the handler's response: no 500 for a user who just
// logged out in another tab.
func TestEndedWhileRunningIsNotAnError(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	mgr, err := session.New(session.Config{Store: mem, Codec: jsoncodec.New()})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := New(Config{Manager: mgr, Secrets: []string{testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	sess := mgr.Open(context.Background(), "")
	if err := sess.Put("user_id", "ana"); err != nil {
		t.Fatal(err)
	}
	res, err := mgr.Commit(context.Background(), sess)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{mgr: mgr, mw: mw}
	cookie := mgr.Config().Cookie.Name + "=" + Sign(res.ID, testSecret)
	w := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		if _, err := s.User(); err != nil {
			t.Fatal(err)
		}
		if err := mem.Delete(r.Context(), res.ID); err != nil { // logout elsewhere
			t.Fatal(err)
		}
		if err := s.Put("last_seen", "now"); err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("page"))
	}, "GET", "/", cookie)
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != "page" {
		t.Fatalf("response = %d %q; want the handler's 200 \"page\"", w.Code, w.Body.String())
	}
	if sc := setCookies(w); len(sc) != 0 {
		t.Fatalf("Set-Cookie = %q; want the cookie left alone", sc)
	}
	if _, _, found, _ := mem.Load(context.Background(), res.ID); found {
		t.Fatal("the ended session was written back")
	}
}
