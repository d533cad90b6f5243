// Package middleware connects a session.Manager to net/http: it reads and
// verifies the signed session cookie (or a token in a request header, for
// API and mobile clients), gives handlers the request's session through Get,
// commits it before the response's first byte and writes the cookie.
//
// The cookie is signed exactly as express-session signs it, so a Go service
// and an Express application can share sessions (package express is the
// preset that does it). The middleware imports no codec: the Manager's
// decides the stored format. The signature is checked before the store is
// consulted, and the store is read only when the handler uses the session:
// a forged cookie, or a request that never touches its session, costs no
// store call.
//
// Several middlewares can serve one request, each with its own cookie name
// and store (say long-lived preferences and a short login session): each
// Middleware's Get finds its own session, and the package-level Get the
// innermost one. Config.TokenHeader carries the session in a request header
// for clients without cookies; Begin serves frameworks whose handlers do
// not write through an http.ResponseWriter (see the adapters directory).
package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/sessionkit/sessionkit/session"
)

// MinSecretLen is the shortest secret New accepts to sign with, in bytes.
const MinSecretLen = 32

// Config configures a Middleware.
type Config struct {
	// Manager owns the sessions. Required. The cookie settings come from
	// Manager.Config().Cookie.
	Manager *session.Manager

	// Secrets sign and verify the cookie. The first signs; a cookie signed
	// with any of them is accepted, so a secret can be rotated by putting
	// the new one first and removing the old one once its cookies have
	// expired. Required, with no built-in fallback: the first must be at
	// least MinSecretLen bytes. The others may be shorter (not empty), so
	// that Go can join an Express fleet that signs with a short secret
	// without logging everyone out: they only ever verify, and New logs a
	// warning naming the rotation path (Node and Go both on [new long, old
	// short], then drop the short one).
	Secrets []string

	// ErrorHandler writes the response when the session cannot be
	// committed (the store failed, a value could not be encoded, or the
	// record kept changing through every retry: session.ErrConflict). A
	// session that another request ended while this one ran
	// (session.ErrEnded) is not a failure: the changes are dropped, the
	// cookie is left alone and the handler's response is sent. It
	// replaces the handler's response, which is discarded; the headers the
	// handler set are removed before it is called. The default answers 503
	// Service Unavailable when the store was unreachable or the request's
	// context ended, and 500 Internal Server Error otherwise, in plain text
	// that holds no session data.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger receives commit failures, without session data or IDs. The
	// default is the Manager's logger.
	Logger *slog.Logger

	// AutoSecure adds the Secure attribute to cookies set on HTTPS
	// requests (r.TLS is set, or X-Forwarded-Proto says https when
	// TrustProxy is set), for deployments that serve both. It does not
	// satisfy the checks that require Cookie.Secure. It is express-session's
	// secure: 'auto', and the stored record follows it as there: a session
	// created over HTTPS stores "secure": true, one created over HTTP false,
	// and a loaded session keeps its record's value (see
	// session.Session.SetRequestSecure).
	AutoSecure bool

	// TrustProxy lets AutoSecure believe the first value of the
	// X-Forwarded-Proto header. Set it only behind a proxy that overwrites
	// that header.
	TrustProxy bool

	// TokenHeader names a request header that carries the session, for
	// clients that keep no cookies (mobile apps, API clients). The token is
	// the cookie's value, signed the same way with the same Secrets, so
	// rotating a secret rotates both. "Authorization" reads
	// "Authorization: Bearer <token>" and ignores other schemes; any other
	// name is read as the bare token, such as "X-Session-Token". The
	// default, "", reads no header.
	//
	// When a request carries both, the header wins and the cookie is not
	// read; a header whose token does not verify gives a new session, as a
	// bad cookie does. The response answers on the channel the request
	// used: a request that came with the header gets the token back and no
	// cookie, one that came with the cookie gets the cookie and no token,
	// and one that brought neither gets both (it may be either kind of
	// client). A page's scripts can read that header on same-origin
	// responses, which HttpOnly cookies are meant to prevent: where that
	// matters, serve API clients through a second, HeaderOnly Middleware
	// on their own routes.
	TokenHeader string

	// TokenResponseHeader names the response header that gives a token to
	// the client when its session is new or has been renewed, and is sent
	// with an empty value when the session ended (Destroy, or past its
	// deadline): the client should then drop its token. A session destroyed
	// and then given new values (a "signed out" flash) sends the new
	// session's token instead, replacing the dead one. A session whose
	// token did not change gets no header. The default is TokenHeader, or
	// "X-Session-Token" when TokenHeader is "Authorization". A browser
	// script reading it from another origin needs it listed in CORS's
	// Access-Control-Expose-Headers.
	TokenResponseHeader string

	// HeaderOnly turns the cookie off: it is neither read nor set, and only
	// TokenHeader carries the session. It requires TokenHeader.
	HeaderOnly bool
}

// Middleware reads, verifies, commits and writes session cookies (and
// header tokens). Create one with New (or express.New); it is safe for
// concurrent use.
type Middleware struct {
	mgr        *session.Manager
	keys       *keyring
	cookie     cookieSpec
	onError    func(http.ResponseWriter, *http.Request, error)
	log        *slog.Logger
	autoSecure bool
	trustProxy bool

	useCookie bool
	token     tokenSpec
	// vary lists the request headers a response that used the session
	// depends on.
	vary []string
}

// New checks cfg and returns a Middleware. It refuses a missing Manager, a
// missing or short first secret, and an empty secret. The cookie settings
// are the Manager's, which session.New checked: it refuses those that
// browsers reject or that defeat the cookie's protection.
func New(cfg Config) (*Middleware, error) {
	if cfg.Manager == nil {
		return nil, errors.New("middleware: Config.Manager is required")
	}
	if len(cfg.Secrets) == 0 {
		return nil, fmt.Errorf("middleware: Config.Secrets is empty; give at least one random secret of %d bytes or more (for example from SESSION_SECRET)", MinSecretLen)
	}
	if n := len(cfg.Secrets[0]); n < MinSecretLen {
		return nil, fmt.Errorf("middleware: Config.Secrets[0] is %d bytes; the first secret signs every cookie and must be at least %d random bytes (a shorter secret of an existing Express fleet may follow it, to verify that fleet's cookies)", n, MinSecretLen)
	}
	var short []int
	for i, s := range cfg.Secrets[1:] {
		switch {
		case s == "":
			return nil, fmt.Errorf("middleware: Config.Secrets[%d] is empty", i+1)
		case len(s) < MinSecretLen:
			short = append(short, i+1)
		}
	}
	// session.New checked the cookie options.
	o := cfg.Manager.Config().Cookie
	tok, err := newTokenSpec(cfg)
	if err != nil {
		return nil, err
	}
	m := &Middleware{
		mgr:        cfg.Manager,
		keys:       newKeyring(cfg.Secrets),
		cookie:     newCookieSpec(o),
		onError:    cfg.ErrorHandler,
		log:        cfg.Logger,
		autoSecure: cfg.AutoSecure,
		trustProxy: cfg.TrustProxy,
		useCookie:  !cfg.HeaderOnly,
		token:      tok,
	}
	if m.useCookie {
		m.vary = append(m.vary, "Cookie")
	}
	if tok.request != "" {
		m.vary = append(m.vary, tok.request)
	}
	if m.log == nil {
		m.log = cfg.Manager.Config().Logger
	}
	if m.onError == nil {
		m.onError = m.defaultError
	}
	if len(short) > 0 {
		m.log.Warn(fmt.Sprintf("middleware: Config.Secrets%v shorter than %d bytes: accepted to verify existing cookies, never to sign. "+
			"Rotation path: run the Node apps (express-session's secret) and Go both on [new long, old short]; once every cookie signed with "+
			"the short secret has expired (its maxAge after it was last sent), remove the short secret from both", short, MinSecretLen))
	}
	return m, nil
}

// Manager returns the Manager the middleware commits to.
func (m *Middleware) Manager() *session.Manager { return m.mgr }

// ctxKey is the context key under which Handler keeps the request's state,
// for Get and FromContext; mwKey is the key of one Middleware's state.
type (
	ctxKey struct{}
	mwKey  struct{ m *Middleware }
)

// Get returns the session of a request served through a Middleware's
// Handler, or nil for a request that did not pass through one. When several
// middlewares are nested (sessions under different cookie names), Get
// returns the innermost one's session; Middleware.Get reaches each.
//
// The session is loaded from the store on first use, not by Get. Get may be
// called any number of times and from any goroutine of the request; it
// returns the same session each time.
func Get(r *http.Request) *session.Session { return FromContext(r.Context()) }

// FromContext is Get for code that has only the request's context (or a
// context derived from it).
func FromContext(ctx context.Context) *session.Session {
	st, _ := ctx.Value(ctxKey{}).(*state)
	if st == nil {
		return nil
	}
	return st.session()
}

// Get returns the session m keeps for the request, or nil when the request
// did not pass through m's Handler. Unlike the package-level Get it finds
// m's session however many other session middlewares are nested inside m.
func (m *Middleware) Get(r *http.Request) *session.Session { return m.FromContext(r.Context()) }

// FromContext is Middleware.Get for code that has only the request's
// context.
func (m *Middleware) FromContext(ctx context.Context) *session.Session {
	st, _ := ctx.Value(mwKey{m}).(*state)
	if st == nil {
		return nil
	}
	return st.session()
}

// Handler returns next wrapped so that each request has a session, reached
// with Get, committed before the response's first byte (or after next
// returns when it writes nothing). When next panics the session is not
// committed.
//
// The cookie (or token header) is read and its signature checked when the
// handler first calls Get, and the store only when it first uses the
// session: a request that ignores its session costs neither.
//
// A response whose handler called Get gets "Vary: Cookie" (and the token
// header's name, when one is configured; only that in HeaderOnly mode),
// added to any Vary the handler set, since its content may depend on the
// session. A response that sets or clears the cookie or the token also gets
// "Cache-Control: no-store", so that no shared cache replays it; a
// Cache-Control the handler set is kept only when it already holds
// no-store.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		// The writer is also the request's context (its parent's, plus the
		// state under ctxKey): one allocation fewer on every request than
		// context.WithValue.
		w := &writer{ResponseWriter: rw}
		w.state = state{Context: r.Context(), mw: m}
		r = r.WithContext(w)
		w.req = r
		next.ServeHTTP(w, r)
		w.commit()
	})
}

// Pending is the session state of one request that an adapter serves
// without Handler, for frameworks whose handlers do not write through an
// http.ResponseWriter that Handler could wrap (fasthttp-based ones, such as
// fiber). Begin makes one; the adapter runs its handlers, then calls Commit
// before it sends anything.
type Pending struct{ st *state }

// Begin returns r with m's session state in its context (so Get,
// FromContext and m.Get work on it and on the contexts derived from it) and
// the Pending to commit once the handlers have run. Handler is the way for
// net/http; Begin is for adapters.
func (m *Middleware) Begin(r *http.Request) (*http.Request, *Pending) {
	st := &state{Context: r.Context(), mw: m}
	r = r.WithContext(st)
	st.req = r
	return r, &Pending{st}
}

// Session returns the request's session, as Get would.
func (p *Pending) Session() *session.Session { return p.st.session() }

// Commit commits the session and adds its headers (Set-Cookie, the token
// header, Vary, Cache-Control) to w.Header(), writing nothing else. When the
// commit fails it clears w.Header(), answers on w with the ErrorHandler
// and returns the error: the adapter must then send w's response instead of
// the handler's. Commit runs once; later calls do nothing and return nil.
func (p *Pending) Commit(w http.ResponseWriter) error {
	if err := p.st.commitTo(w.Header()); err != nil {
		p.st.mw.fail(w, p.st.req, err)
		return err
	}
	return nil
}

// secure reports whether the cookie set on r gets the Secure attribute.
func (m *Middleware) secure(r *http.Request) bool {
	if m.cookie.secure {
		return true
	}
	if !m.autoSecure {
		return false
	}
	if r.TLS != nil {
		return true
	}
	if m.trustProxy {
		proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
		return strings.EqualFold(strings.TrimSpace(proto), "https")
	}
	return false
}

// defaultError is the default ErrorHandler.
func (m *Middleware) defaultError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	if Unavailable(err) {
		code = http.StatusServiceUnavailable
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, http.StatusText(code))
}

// Unavailable reports whether err means that the session store could not
// serve in time (a context error, a closed store, a network failure, or what
// a store reports as session.ErrUnavailable: a server shutting down,
// starting up or failing over), as opposed to a fault such as a value that
// cannot be encoded. The default ErrorHandler answers 503 for these, which a
// load balancer may retry, and 500 for the rest.
func Unavailable(err error) bool {
	var ne net.Error
	return errors.Is(err, session.ErrUnavailable) ||
		errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, session.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.As(err, &ne)
}
