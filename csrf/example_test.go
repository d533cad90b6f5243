package csrf_test

import (
	"crypto/rand"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/csrf"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

var form = template.Must(template.New("form").Parse(
	`<form method="post" action="/transfer"><input type="hidden" name="csrf_token" value="{{.}}"><button>Send</button></form>`))

// Example puts Go's header-based cross-origin check first, the session
// middleware next and the token check inside it.
func Example() {
	store := memstore.New()
	defer store.Close()
	mgr, err := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	secret := rand.Text() + rand.Text() // in production: os.Getenv("SESSION_SECRET")
	sessions, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secret}})
	if err != nil {
		log.Fatal(err)
	}
	protect, err := csrf.New(csrf.Config{})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /transfer", func(w http.ResponseWriter, r *http.Request) {
		tok, err := protect.Token(r)
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		form.Execute(w, tok)
	})
	mux.HandleFunc("POST /transfer", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "sent")
	})
	cop := http.NewCrossOriginProtection()
	h := cop.Handler(sessions.Handler(protect.Handler(mux)))

	// A page with the form, then the form posted back with its token.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/transfer", nil))
	cookie := w.Result().Cookies()[0]
	tok := strings.Split(strings.Split(w.Body.String(), `value="`)[1], `"`)[0]

	post := func(fields url.Values, site string) int {
		r := httptest.NewRequest("POST", "/transfer", strings.NewReader(fields.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", site)
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println("same origin, with token:", post(url.Values{"csrf_token": {tok}}, "same-origin"))
	fmt.Println("same origin, no token:", post(nil, "same-origin"))
	fmt.Println("cross site:", post(url.Values{"csrf_token": {tok}}, "cross-site"))
	// Output:
	// same origin, with token: 200
	// same origin, no token: 403
	// cross site: 403
}
