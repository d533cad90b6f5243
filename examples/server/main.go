// Command server is a small web app on sessionkit: log in, count visits, renew
// the session ID, list and revoke your other sessions, log out.
//
//	SESSION_SECRET=$(openssl rand -hex 32) go run ./examples/server
//	go run ./examples/server -dev   # a random secret, printed as such
//
// It listens on 127.0.0.1:8080 (-addr to change) and keeps sessions in
// memory.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sessionkit/sessionkit/codecs/json"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memory"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	dev := flag.Bool("dev", false, "development mode: generate a random SESSION_SECRET when none is set")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	secret := os.Getenv("SESSION_SECRET")
	if secret == "" {
		if !*dev {
			log.Error("SESSION_SECRET is not set; set it to at least 32 random bytes, or run with -dev for a throwaway secret")
			os.Exit(2)
		}
		secret = randomSecret()
		log.Warn("development mode: using a random SESSION_SECRET; sessions end when the server stops")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
	log.Info("listening", "url", "http://"+ln.Addr().String())
	if err := serve(ctx, ln, memory.New(), []string{secret}, log); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// serve runs the app on ln until ctx ends, then shuts down gracefully and
// closes the store.
func serve(ctx context.Context, ln net.Listener, store session.Store, secrets []string, log *slog.Logger) error {
	h, mgr, err := newApp(store, secrets, log)
	if err != nil {
		return err
	}
	defer mgr.Close()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newApp builds the app's handler over store.
func newApp(store session.Store, secrets []string, log *slog.Logger) (http.Handler, *session.Manager, error) {
	mgr, err := session.New(session.Config{
		Store:       store,
		Codec:       json.New(),
		IdleTimeout: 2 * time.Hour,
		Logger:      log,
	})
	if err != nil {
		return nil, nil, err
	}
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: secrets})
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", home)
	mux.HandleFunc("POST /login", loginHandler)
	mux.HandleFunc("POST /count", count)
	mux.HandleFunc("POST /renew", renew)
	mux.HandleFunc("POST /revoke-others", revokeOthers)
	mux.HandleFunc("POST /logout", logout)
	return mw.Handler(mux), mgr, nil
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>sessionkit example</title></head>
<body>
<h1>sessionkit example</h1>
{{range .Flashes}}<p class="flash">{{.}}</p>{{end}}
{{if .User}}
<p>Signed in as <b id="user">{{.User}}</b>. Counter: <b id="count">{{.Count}}</b>.</p>
<form method="post" action="/count"><button id="count-btn">Count</button></form>
<form method="post" action="/renew"><button id="renew-btn">Renew session ID</button></form>
<h2>Your sessions</h2>
<ul id="sessions">{{range .Sessions}}<li>{{if .Current}}this one{{else}}another{{end}}, started {{.Created.Format "2006-01-02 15:04"}}, expires {{.ExpiresAt.Format "15:04:05"}}</li>{{end}}</ul>
<form method="post" action="/revoke-others"><button id="revoke-btn">Sign out my other sessions</button></form>
<form method="post" action="/logout"><button id="logout-btn">Sign out</button></form>
{{else}}
<form method="post" action="/login"><label>Name <input name="user" id="user-input"></label> <button id="login-btn">Sign in</button></form>
{{end}}
</body></html>`))

type view struct {
	User     string
	Count    int
	Sessions []session.Info
	Flashes  []string
}

func home(w http.ResponseWriter, r *http.Request) {
	s := middleware.Get(r)
	user, err := s.User()
	if err != nil {
		http.Error(w, "sessions are unavailable", http.StatusServiceUnavailable)
		return
	}
	v := view{User: user}
	v.Flashes, _ = session.Flashes(s, "info")
	if user != "" {
		v.Count, _ = session.GetOr(s, "count", 0)
		v.Sessions, _ = s.Others()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, v)
}

// done redirects home after a change, or reports why the change failed.
func done(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		http.Error(w, "could not update the session", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func loginHandler(w http.ResponseWriter, r *http.Request) {
	user := r.PostFormValue("user")
	if user == "" || len(user) > 64 {
		http.Error(w, "a name of 1 to 64 characters is required", http.StatusBadRequest)
		return
	}
	s := middleware.Get(r)
	// A new ID on login: an ID learned before signing in is worthless after.
	err := errors.Join(s.Renew(), s.SetUser(user), s.Put("count", 0),
		session.AddFlash(s, "info", fmt.Sprintf("Welcome, %s.", user)))
	done(w, r, err)
}

func count(w http.ResponseWriter, r *http.Request) {
	s := middleware.Get(r)
	n, err := session.GetOr(s, "count", 0)
	if err == nil {
		err = s.Put("count", n+1)
	}
	done(w, r, err)
}

func renew(w http.ResponseWriter, r *http.Request) {
	s := middleware.Get(r)
	done(w, r, errors.Join(s.Renew(), session.AddFlash(s, "info", "Your session has a new ID.")))
}

func revokeOthers(w http.ResponseWriter, r *http.Request) {
	s := middleware.Get(r)
	n, err := s.RevokeOthers()
	if err == nil {
		err = session.AddFlash(s, "info", fmt.Sprintf("Signed out %d other session(s).", n))
	}
	done(w, r, err)
}

func logout(w http.ResponseWriter, r *http.Request) {
	s := middleware.Get(r)
	done(w, r, errors.Join(s.Destroy(), session.AddFlash(s, "info", "Signed out.")))
}
