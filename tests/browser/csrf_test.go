package browser

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/csrf"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/boltstore"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// csrfSecret signs the session cookies of the CSRF browser test.
const csrfSecret = "0123456789abcdef0123456789abcdef-csrf"

// csrfChromium finds Chromium as the other browser tests do: it fails in CI
// and skips elsewhere when there is none.
func csrfChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SESSIONKIT_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	const hint = "Chromium not found; install it (apt-get install -y chromium) or set SESSIONKIT_CHROMIUM to run the browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(hint)
	}
	t.Skip(hint)
	return ""
}

var transferPage = template.Must(template.New("t").Parse(`<!doctype html>
<form method="post" action="/transfer">
<input type="hidden" name="csrf_token" value="{{.}}">
<input name="amount" value="10">
<button id="send">Send</button>
</form>`))

// bank is the site under attack: GET /transfer shows a form with a token,
// POST /transfer moves money and counts.
type bank struct {
	srv       *httptest.Server
	transfers atomic.Int64
	// withCookie counts the refused POSTs that still carried the session
	// cookie, to tell the token's refusals from the browser's SameSite.
	refusedWithCookie atomic.Int64
}

// bankSetup is how the bank is protected, and how its cookie is set.
type bankSetup struct {
	name string
	// cop puts http.CrossOriginProtection in front.
	cop bool
	// sameSiteNone sets the session cookie SameSite=None; Secure (Chromium
	// keeps Secure cookies from http://127.0.0.1), so the browser sends it
	// with the forged POST and only the token stands in the way.
	sameSiteNone bool
	// unprotected leaves the token check out: the control case, which shows
	// the forged POST does reach the bank with its cookie when nothing
	// stops it, so the refusals above are the protection's doing.
	unprotected bool
}

func newBank(t *testing.T, store session.Store, setup bankSetup) *bank {
	b := &bank{}
	cookie := session.CookieOptions{}
	if setup.sameSiteNone {
		cookie = session.CookieOptions{SameSite: "none", Secure: true}
	}
	mgr, err := session.New(session.Config{Store: store, Codec: jsoncodec.New(), Cookie: cookie})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{csrfSecret}})
	if err != nil {
		t.Fatal(err)
	}
	protect, err := csrf.New(csrf.Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		if _, cerr := r.Cookie("session"); cerr == nil {
			b.refusedWithCookie.Add(1)
		}
		http.Error(w, "refused by the token check: "+err.Error(), http.StatusForbidden)
	}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /transfer", func(w http.ResponseWriter, r *http.Request) {
		tok, err := protect.Token(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		transferPage.Execute(w, tok)
	})
	mux.HandleFunc("POST /transfer", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "sent %d", b.transfers.Add(1))
	})
	h := mw.Handler(protect.Handler(mux))
	if setup.unprotected {
		h = mw.Handler(mux)
	}
	if setup.cop {
		h = http.NewCrossOriginProtection().Handler(h)
	}
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

// TestCSRFInBrowser runs a bank on http://127.0.0.1:A and an attacker on
// http://localhost:B, two sites to the browser. The bank's own form posts
// and is served; the attacker's page, which auto-submits a form to the
// bank, is refused: by the token alone, by http.CrossOriginProtection in
// front of it, and by the token when a SameSite=None cookie lets the forged
// POST carry the session. A control bank without the token check serves
// that POST, which shows the attack is real in this browser.
func TestCSRFInBrowser(t *testing.T) {
	path := csrfChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelBrowser()
	// Start the browser once; each case gets a fresh tab below.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}

	stores := map[string]func(t *testing.T) session.Store{
		"memstore": func(t *testing.T) session.Store {
			s := memstore.New()
			t.Cleanup(func() { s.Close() })
			return s
		},
		"boltstore": func(t *testing.T) session.Store {
			s, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	setups := []bankSetup{
		{name: "token", cop: false},
		{name: "token+CrossOriginProtection", cop: true},
		{name: "token,SameSite=None", sameSiteNone: true},
		{name: "unprotected,SameSite=None", sameSiteNone: true, unprotected: true},
	}
	for name, open := range stores {
		for _, setup := range setups {
			t.Run(name+"/"+setup.name, func(t *testing.T) {
				b := newBank(t, open(t), setup)
				attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprintf(w, `<!doctype html>
<form method="post" action="%s/transfer">
<input type="hidden" name="csrf_token" value="guessed">
<input name="amount" value="1000">
</form>
<script>document.forms[0].submit()</script>`, b.srv.URL)
				}))
				defer attacker.Close()
				evil := strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1)

				ctx, cancel := chromedp.NewContext(browser)
				defer cancel()
				ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
				defer cancelT()

				// Same site: the bank's own form, with its token.
				if err := chromedp.Do(ctx,
					chromedp.Navigate(b.srv.URL+"/transfer"),
					chromedp.WaitVisible(chromedp.CSS("#send")),
					// Marks this page, so pageOn waits for the next one.
					chromedp.Evaluate[chromedp.Void](`void (document.body.dataset.stale = "1")`),
					chromedp.Click(chromedp.CSS("#send")),
				); err != nil {
					t.Fatalf("same-site form: %v", err)
				}
				if got := pageOn(ctx, t, b.srv.URL); got != "sent 1" {
					t.Fatalf("same-site POST answered %q, want sent 1", got)
				}

				// Cross site: the attacker's page posts to the bank.
				if err := chromedp.Do(ctx, chromedp.Navigate(evil+"/")); err != nil {
					t.Fatalf("attacker page: %v", err)
				}
				got := pageOn(ctx, t, b.srv.URL)
				if setup.unprotected {
					if n := b.transfers.Load(); n != 2 || got != "sent 2" {
						t.Errorf("control: with no protection the forged POST should be served with the cookie; %d transfers, page %q", n, got)
					}
					return
				}
				if n := b.transfers.Load(); n != 1 {
					t.Fatalf("the cross-site POST was served: %d transfers, page %q", n, got)
				}
				want := "refused by the token check"
				if setup.cop {
					want = "cross-origin"
				}
				if !strings.Contains(got, want) {
					t.Errorf("cross-site POST answered %q, want it refused (%q)", got, want)
				}
				withCookie := b.refusedWithCookie.Load()
				switch {
				case setup.sameSiteNone && withCookie != 1:
					t.Errorf("SameSite=None: %d refused POSTs carried the session cookie, want 1: the token, not SameSite, must be what refused it", withCookie)
				case !setup.sameSiteNone && withCookie != 0:
					t.Errorf("SameSite=Lax: the browser sent the session cookie with a cross-site POST")
				}
			})
		}
	}
}

// pageOn waits until the tab shows a loaded page of base, other than one
// marked stale, and returns its text.
func pageOn(ctx context.Context, t *testing.T, base string) string {
	t.Helper()
	for {
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.readyState + (document.body && document.body.dataset.stale ? " stale" : "")`))
		if err == nil && strings.HasPrefix(state, base+"/") && strings.HasSuffix(state, " complete") {
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			if err == nil {
				return strings.TrimSpace(text)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for a page of %s: last %q, %v", base, state, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
