// Command server is a small web app on sessionkit: log in, count visits, renew
// the session ID, list and revoke your other sessions, log out.
//
//	SESSION_SECRET=$(openssl rand -hex 32) go run ./examples/server
//	go run ./examples/server -dev   # a generated secret, kept beside sessions.db
//
// Configuration, from the environment as the Express deployment it replaces
// read it:
//
//	SESSION_SECRET   the cookie signing secret, at least 32 bytes; required
//	                 unless -dev is given
//	SESSION_STORE    the store URL (see package stores): postgres://…,
//	                 mysql://…, redis://…, bbolt:///path.db, memory://
//	DATABASE_URL     used when SESSION_STORE is unset
//	                 neither: the bbolt file sessions.db in the working directory
//	SESSION_EXPRESS  "true" for express mode, as -express
//	SESSION_TOKEN_HEADER  a request header that carries the session for
//	                 clients without cookies, as -token-header
//
// Flags: -addr (default 127.0.0.1:8080), -dev, -express (cookie connect.sid
// and express-session's JSON, to share sessions with a Node app on the same
// table or Redis), -secure (Secure cookie), -samesite (lax, strict, none or
// off), -token-header NAME (also accept the session in the request header
// NAME, "Authorization" meaning "Authorization: Bearer <token>"; new and
// renewed tokens come back in NAME, or X-Session-Token for Authorization, and
// an ended session as an empty value) and -header-only (no cookie at all: the
// header alone carries the session). Every flag and variable is checked
// before the server listens; -h prints the usage.
//
// With -dev and no SESSION_SECRET on a bbolt store, the server generates a
// secret once and keeps it in a file beside the bbolt file (sessions.db →
// sessions.db.dev-secret, mode 0600), so that sessions survive a restart as
// they do with a fixed SESSION_SECRET. On any other store -dev makes a random
// secret per run. Never use -dev in production: whoever can read that file
// can forge cookies.
//
// A PostgreSQL or MySQL URL is used as given. The session table must exist
// (create it with the SQL that `sessionctl schema URL` prints), or add
// create_table=true to the URL to let the
// store create it on first start. A bbolt URL without on_damage gets
// on_damage=reset: this app's sessions are disposable, so a damaged file is
// moved aside (and logged) and the server starts with no sessions rather
// than not at all.
//
// GET /metrics serves Prometheus metrics and GET /healthz checks the store;
// both are outside the session middleware. The server stops gracefully on
// SIGINT or SIGTERM and closes the store.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/metrics/promcollector"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
	"github.com/sessionkit/sessionkit/stores/boltstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(exitCode(run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)))
}

// exitCode is the process status for run's result: 0 for success and for
// -h, 2 for a usage error, 1 for anything else.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

// usageError is a configuration mistake, reported before anything starts.
type usageError struct{ error }

// defaultStore is the embedded store used when no URL is configured.
const defaultStore = "bbolt://sessions.db"

// devSecretSuffix names -dev's secret file: the bbolt file's name plus this.
const devSecretSuffix = ".dev-secret"

// sameSiteValues are the -samesite values, as the help and the error say.
const sameSiteValues = "lax, strict, none or off"

// config is the app's configuration, from flags and the environment.
type config struct {
	Addr     string
	StoreURL string
	// Secrets is empty in dev mode without SESSION_SECRET, until
	// devSecret fills it once the store is open.
	Secrets  []string
	Dev      bool
	Express  bool
	Secure   bool
	SameSite string

	TokenHeader string
	HeaderOnly  bool
}

const usageText = `Usage: server [flags]

A small web app on sessionkit. Configuration from the environment:

  SESSION_SECRET   cookie signing secret, at least 32 bytes (openssl rand -hex 32);
                   required unless -dev is given
  SESSION_STORE    store URL: postgres://…, redis://…, bbolt:///path.db, memory://
                   (a PostgreSQL table must exist, or add create_table=true)
  DATABASE_URL     used when SESSION_STORE is unset; neither: bbolt://sessions.db
  SESSION_EXPRESS  "true" for express mode, as -express
  SESSION_TOKEN_HEADER  as -token-header

Flags:
`

// parseConfig reads flags from args and the environment through getenv, and
// checks all of them, so that a mistake stops the server before it listens.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	var c config
	envExpress, _ := strconv.ParseBool(getenv("SESSION_EXPRESS"))
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.BoolVar(&c.Dev, "dev", false, "development mode: when SESSION_SECRET is unset, generate a secret (kept beside a bbolt store's file)")
	fs.BoolVar(&c.Express, "express", envExpress, "express mode: cookie connect.sid, express-session JSON (env SESSION_EXPRESS)")
	fs.BoolVar(&c.Secure, "secure", false, "send the cookie over HTTPS only (browsers also store it from http://localhost)")
	fs.StringVar(&c.SameSite, "samesite", "lax", "cookie SameSite: "+sameSiteValues+" (none needs -secure; off sends no attribute)")
	fs.StringVar(&c.TokenHeader, "token-header", getenv("SESSION_TOKEN_HEADER"), "also carry the session in this request header, for clients without cookies (env SESSION_TOKEN_HEADER)")
	fs.BoolVar(&c.HeaderOnly, "header-only", false, "no cookie: only the -token-header header carries the session")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{err}
	}
	if c.HeaderOnly && c.TokenHeader == "" {
		return c, usageError{errors.New("-header-only needs -token-header")}
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	// session.ParseSameSite's error lists the values sameSiteValues names.
	sameSite, err := session.ParseSameSite(c.SameSite)
	if err != nil {
		return c, usageError{fmt.Errorf("-samesite: %w", err)}
	}
	if sameSite == session.SameSiteNone && !c.Secure {
		return c, usageError{errors.New("-samesite none needs -secure: browsers reject SameSite=None cookies that are not Secure")}
	}

	secret := getenv("SESSION_SECRET")
	switch {
	case secret != "" && len(secret) < middleware.MinSecretLen:
		return c, usageError{fmt.Errorf("SESSION_SECRET is %d bytes; it needs at least %d (try: openssl rand -hex 32)", len(secret), middleware.MinSecretLen)}
	case secret == "" && !c.Dev:
		return c, usageError{errors.New("SESSION_SECRET is not set; set it to at least 32 random bytes (openssl rand -hex 32), or run with -dev for a development secret")}
	case secret != "":
		c.Secrets = []string{secret}
	}

	c.StoreURL = getenv("SESSION_STORE")
	if c.StoreURL == "" {
		c.StoreURL = getenv("DATABASE_URL")
	}
	if c.StoreURL == "" {
		c.StoreURL = defaultStore
	}
	if stores.Backend(c.StoreURL) == "bbolt" && !strings.Contains(c.StoreURL, "on_damage=") {
		sep := "?"
		if strings.Contains(c.StoreURL, "?") {
			sep = "&"
		}
		c.StoreURL += sep + "on_damage=reset"
	}
	return c, nil
}

// devSecret returns -dev's secret for store. A bbolt store keeps it in a
// file beside its own (mode 0600), made on the first start and read on the
// next, so that cookies outlive a restart as the sessions do; a file that
// cannot be used is an error, never silently replaced, which would sign
// everyone out. Any other store gets a random secret for this run.
func devSecret(store session.Store, log *slog.Logger) (string, error) {
	bs, ok := store.(*boltstore.Store)
	if !ok {
		log.Warn("development mode: SESSION_SECRET is unset, so a random secret was generated for this run; session cookies become invalid when the server stops")
		return randomSecret()
	}
	file := bs.Path() + devSecretSuffix
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		secret := strings.TrimSpace(string(b))
		if len(secret) < middleware.MinSecretLen {
			return "", fmt.Errorf("development secret file %s holds %d bytes, fewer than %d; delete it to generate a new one (signing everyone out) or set SESSION_SECRET", file, len(secret), middleware.MinSecretLen)
		}
		log.Warn("development mode: SESSION_SECRET is unset; reusing the secret kept in a file beside the store", "file", file)
		return secret, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("development secret: %w", err)
	}
	secret, err := randomSecret()
	if err != nil {
		return "", err
	}
	// O_EXCL: of two servers starting on one file, the second fails here
	// rather than overwrite the secret the first is signing with.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("development secret: %w", err)
	}
	_, err = f.WriteString(secret + "\n")
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(file)
		return "", fmt.Errorf("development secret: %w", err)
	}
	log.Warn("development mode: SESSION_SECRET is unset, so the server generated a secret and keeps it in a file beside the store for the next start; never use -dev in production", "file", file)
	return secret, nil
}

func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// run configures, opens the store and serves until ctx ends. ready, when
// not nil, is called with the listening address once requests are accepted.
// Everything that can be checked is checked before the server listens.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) error {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		log.Error("configuration", "err", err)
		return err
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	store, err := stores.Open(openCtx, cfg.StoreURL)
	cancel()
	if err != nil {
		log.Error("open session store", "store", stores.Redact(cfg.StoreURL), "err", err)
		return err
	}
	closeStore := func() {
		if c, ok := store.(io.Closer); ok {
			_ = c.Close()
		}
	}
	if len(cfg.Secrets) == 0 {
		secret, err := devSecret(store, log)
		if err != nil {
			log.Error("configuration", "err", err)
			closeStore()
			return err
		}
		cfg.Secrets = []string{secret}
	}
	h, mgr, err := newApp(store, cfg, log)
	if err != nil {
		log.Error("configuration", "err", err)
		closeStore()
		return err
	}
	defer mgr.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		log.Error("listen", "err", err)
		return err
	}
	log.Info("listening", "url", "http://"+ln.Addr().String(), "store", stores.Redact(cfg.StoreURL), "express", cfg.Express)
	if ready != nil {
		ready(ln.Addr().String())
	}
	if err := serve(ctx, ln, h); err != nil {
		log.Error("server stopped", "err", err)
		return err
	}
	log.Info("stopped")
	return nil
}

// serve runs h on ln until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
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
func newApp(store session.Store, cfg config, log *slog.Logger) (http.Handler, *session.Manager, error) {
	backend := stores.Backend(cfg.StoreURL)
	if backend == "" {
		backend = "custom"
	}
	metrics, err := promcollector.New(promcollector.Config{Backend: backend, Store: store})
	if err != nil {
		return nil, nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(metrics); err != nil {
		return nil, nil, err
	}
	sameSite, err := session.ParseSameSite(cfg.SameSite)
	if err != nil {
		return nil, nil, err
	}
	scfg := session.Config{
		Store:       store,
		Codec:       jsoncodec.New(),
		IdleTimeout: 2 * time.Hour,
		Logger:      log,
		Metrics:     metrics,
		Cookie:      session.CookieOptions{Secure: cfg.Secure, SameSite: sameSite},
	}
	if cfg.Express {
		scfg.Cookie.Name = express.CookieName
	}
	mgr, err := session.New(scfg)
	if err != nil {
		return nil, nil, err
	}
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: cfg.Secrets,
		TokenHeader: cfg.TokenHeader, HeaderOnly: cfg.HeaderOnly})
	if err != nil {
		return nil, nil, err
	}
	app := http.NewServeMux()
	app.HandleFunc("GET /{$}", home(backend))
	app.HandleFunc("POST /login", loginHandler)
	app.HandleFunc("POST /count", count)
	app.HandleFunc("POST /renew", renew)
	app.HandleFunc("POST /revoke-others", revokeOthers)
	app.HandleFunc("POST /logout", logout)

	root := http.NewServeMux()
	root.Handle("/", mw.Handler(app))
	root.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := mgr.Ping(ctx); err != nil {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return root, mgr, nil
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>sessionkit example</title></head>
<body>
<h1>sessionkit example</h1>
<p>Sessions are kept in <b id="backend">{{.Backend}}</b>.</p>
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
	Backend  string
	User     string
	Count    int
	Sessions []session.Info
	Flashes  []string
}

func home(backend string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		user, err := s.User()
		if err != nil {
			http.Error(w, "sessions are unavailable", http.StatusServiceUnavailable)
			return
		}
		v := view{Backend: backend, User: user}
		v.Flashes, _ = session.Flashes(s, "info")
		if user != "" {
			v.Count, _ = session.GetOr(s, "count", 0)
			v.Sessions, _ = s.Others()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, v)
	}
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
