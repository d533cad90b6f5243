// Package csrf protects session-backed forms and APIs against cross-site
// request forgery with a synchronizer token: a random secret kept in the
// request's session, handed to pages masked afresh on every call (so a
// compressed response never repeats it, which defeats BREACH), and checked
// on every unsafe request (anything but GET, HEAD, OPTIONS and TRACE) from a
// form field or a request header.
//
// The secret is bound to the session ID it was made under: after
// session.Renew (on login, on any change of privilege) the old tokens stop
// working and Token makes a new secret, so a token learned before login
// cannot be replayed after it.
//
// # With http.CrossOriginProtection
//
// Go's http.CrossOriginProtection refuses cross-origin unsafe requests from
// browsers by their Sec-Fetch-Site or Origin header, with no state and no
// change to pages. Put it first, outside the session middleware, so a
// refused request costs no store call, and keep the token behind it:
//
//	cop := http.NewCrossOriginProtection()
//	h := cop.Handler(sessions.Handler(protect.Handler(app)))
//
// The token covers what the header check cannot: browsers that send neither
// header (CrossOriginProtection lets those through, as it must for non-browser
// clients), the origins trusted with AddTrustedOrigin and the paths exempted
// with AddInsecureBypassPattern, and a request forged from a page that runs
// on your own origin but not your code. CrossOriginProtection in turn needs
// no session and no change to pages; the token needs a session for every
// visitor shown a form (Token creates one), and every page and script that
// sends an unsafe request must carry it.
//
// # Clients that send the session in a header
//
// A client that carries its session in a request header
// (middleware.Config.TokenHeader) is not exposed to CSRF: a browser never
// adds that header to a forged request on its own. Such clients can send the
// token too (Token works for them as for pages), or be served on routes the
// Protection does not wrap.
package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// ErrMissing means an unsafe request carried no token.
var ErrMissing = errors.New("csrf: token missing")

// ErrInvalid means an unsafe request carried a token that does not match
// its session's: forged, from another session, from before a Renew, or from
// a session that has ended.
var ErrInvalid = errors.New("csrf: token invalid")

// Config configures a Protection. Every field has a default.
type Config struct {
	// Session returns the request's session. The default is
	// middleware.Get; with several session middlewares, pass the Get of the
	// one that holds the login (such as auth.Get).
	Session func(*http.Request) *session.Session

	// Key is the session key that holds the secret. The default is
	// "_csrf".
	Key string

	// Field is the form field that carries the token. The default is
	// "csrf_token".
	Field string

	// Header is the request header that carries the token, for scripts.
	// It is read before the form. The default is "X-CSRF-Token".
	Header string

	// ErrorHandler answers a refused request. err is ErrMissing, ErrInvalid
	// or the session's error when the store could not be read. The default
	// answers 403 Forbidden for the first two, and 503 or 500 (as the
	// middleware's default does) for a store failure, in plain text.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Protection checks tokens on unsafe requests and makes them for pages.
// It is safe for concurrent use.
type Protection struct {
	session func(*http.Request) *session.Session
	key     string
	field   string
	header  string
	onError func(http.ResponseWriter, *http.Request, error)
}

// New checks cfg and returns a Protection. It refuses a Key the JSON codec
// reserves (jsoncodec.Codec.CheckKey: the keys express-session drops): that
// codec reserves the most keys, so a Key it accepts every codec of this
// module accepts.
func New(cfg Config) (*Protection, error) {
	p := &Protection{session: cfg.Session, key: cfg.Key, field: cfg.Field, header: cfg.Header, onError: cfg.ErrorHandler}
	if p.session == nil {
		p.session = middleware.Get
	}
	if p.key == "" {
		p.key = "_csrf"
	}
	if err := jsoncodec.New().CheckKey(p.key); err != nil {
		return nil, fmt.Errorf("csrf: Config.Key: %w", err)
	}
	if p.field == "" {
		p.field = "csrf_token"
	}
	if p.header == "" {
		p.header = "X-CSRF-Token"
	}
	if p.onError == nil {
		p.onError = defaultError
	}
	return p, nil
}

// Field returns the form field name the token is read from.
func (p *Protection) Field() string { return p.field }

// Header returns the request header name the token is read from.
func (p *Protection) Header() string { return p.header }

// Handler returns next wrapped so that every unsafe request must carry a
// valid token, or is answered by the ErrorHandler without reaching next.
// Safe requests pass unchecked, and cost nothing: the session is not read.
// It must run inside the session middleware.
func (p *Protection) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		default:
			if err := p.Check(r); err != nil {
				p.onError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Check reports whether r carries the valid token of its session, in the
// header or else the form field: nil, ErrMissing, ErrInvalid, or the
// session's error. Handler calls it on unsafe requests; call it directly
// to protect a single handler.
func (p *Protection) Check(r *http.Request) error {
	sent := strings.TrimSpace(r.Header.Get(p.header))
	if sent == "" {
		sent = r.PostFormValue(p.field)
	}
	if sent == "" {
		return ErrMissing
	}
	s := p.session(r)
	if s == nil {
		return errors.New("csrf: the request has no session; run the Protection inside the session middleware")
	}
	secret, err := p.secret(s)
	if err != nil {
		return err
	}
	if secret == nil || !matches(sent, secret) {
		return ErrInvalid
	}
	return nil
}

// Token returns the token to put in the page or form served for r: the
// session's secret, masked with fresh random bytes, so every call returns
// a different string and every one of them is valid until the session is
// renewed or ends. The first call for a session (or the first after Renew)
// makes the secret and stores it in the session.
func (p *Protection) Token(r *http.Request) (string, error) {
	s := p.session(r)
	if s == nil {
		return "", errors.New("csrf: the request has no session; call Token inside the session middleware")
	}
	secret, err := p.secret(s)
	if err != nil {
		return "", err
	}
	if secret == nil {
		id, err := s.ID()
		if err != nil {
			return "", err
		}
		secret = make([]byte, secretLen)
		rand.Read(secret)
		if err := s.Put(p.key, bind(id)+"."+enc.EncodeToString(secret)); err != nil {
			return "", err
		}
	}
	return mask(secret), nil
}

const secretLen = 32

var enc = base64.RawURLEncoding

// secret returns the session's secret, or nil when it has none that was
// made under its current ID.
func (p *Protection) secret(s *session.Session) ([]byte, error) {
	stored, err := session.GetOr(s, p.key, "")
	if err != nil || stored == "" {
		return nil, err
	}
	id, err := s.ID()
	if err != nil {
		return nil, err
	}
	tag, text, ok := strings.Cut(stored, ".")
	if !ok || !hmac.Equal([]byte(tag), []byte(bind(id))) {
		// Made under an ID the session no longer has: renewed since.
		return nil, nil
	}
	secret, err := enc.DecodeString(text)
	if err != nil || len(secret) != secretLen {
		return nil, nil
	}
	return secret, nil
}

// bind returns a short digest of the session ID, which ties the secret to
// the ID without keeping the ID itself in the record.
func bind(id string) string {
	sum := sha256.Sum256([]byte(id))
	return enc.EncodeToString(sum[:12])
}

// mask returns pad || (pad XOR secret), base64url-encoded, for a fresh
// random pad.
func mask(secret []byte) string {
	b := make([]byte, 2*len(secret))
	pad, masked := b[:len(secret)], b[len(secret):]
	rand.Read(pad)
	for i := range secret {
		masked[i] = pad[i] ^ secret[i]
	}
	return enc.EncodeToString(b)
}

// matches reports whether token unmasks to secret, in constant time.
func matches(token string, secret []byte) bool {
	b, err := enc.DecodeString(token)
	if err != nil || len(b) != 2*len(secret) {
		return false
	}
	pad, masked := b[:len(secret)], b[len(secret):]
	for i := range masked {
		masked[i] ^= pad[i]
	}
	return hmac.Equal(masked, secret)
}

func defaultError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusForbidden
	msg := "Forbidden: CSRF token missing or invalid"
	if !errors.Is(err, ErrMissing) && !errors.Is(err, ErrInvalid) {
		code = http.StatusInternalServerError
		if middleware.Unavailable(err) {
			code = http.StatusServiceUnavailable
		}
		msg = http.StatusText(code)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}
