package express_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/gobcodec"
	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

const (
	oldSecret = "an older secret, thirty-two bytes"
	newSecret = "new secret of thirty-two bytes.."
)

func TestNew(t *testing.T) {
	store := memstore.New()
	defer store.Close()
	if _, err := express.New(session.Config{Store: store}, "keyboard cat"); err == nil || !strings.Contains(err.Error(), "12 bytes") {
		t.Fatalf("New with a short secret: %v", err)
	}
	if _, err := express.New(session.Config{Store: store}); err == nil {
		t.Fatal("New without a secret succeeded")
	}
	mw, err := express.New(session.Config{Store: store}, newSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	if name := mw.Manager().Config().Cookie.Name; name != "connect.sid" {
		t.Fatalf("cookie name %q", name)
	}
	if c := mw.Manager().Codec().Name(); c != "json" {
		t.Fatalf("codec %q", c)
	}
	// A session an Express app wrote, with a cookie signed by its older
	// secret.
	doc := `{"cookie":{"originalMaxAge":86400000,"expires":"2099-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"n":41}`
	if err := store.Save(context.Background(), "node-made-id", []byte(doc), time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "connect.sid="+middleware.Sign("node-made-id", oldSecret))
	w := httptest.NewRecorder()
	mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := session.Get[int](middleware.Get(r), "n")
		if err != nil {
			t.Errorf("Get n: %v", err)
		}
		if err := middleware.Get(r).Put("cookie", 1); err == nil {
			t.Error(`Put("cookie") succeeded: express-session drops that key`)
		}
		fmt.Fprint(w, n)
	})).ServeHTTP(w, r)
	if w.Body.String() != "41" {
		t.Fatalf("body %q: the Express session was not read", w.Body.String())
	}
}

func TestConfigKeepsWhatIsSet(t *testing.T) {
	cfg := express.Config(session.Config{Codec: gobcodec.New(), Cookie: session.CookieOptions{Name: "sid"}})
	if cfg.Cookie.Name != "sid" || cfg.Codec.Name() != gobcodec.New().Name() {
		t.Fatalf("Config replaced a codec or cookie name that was set: %q, %q", cfg.Cookie.Name, cfg.Codec.Name())
	}
	cfg = express.Config(session.Config{})
	if cfg.Cookie.Name != express.CookieName || cfg.Codec == nil || cfg.Codec.Name() != "json" {
		t.Fatalf("Config left the express defaults out: %+v", cfg)
	}
}
