package middleware

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/sessionkit/sessionkit/session"
)

// ErrDiscarded is returned by the ResponseWriter's methods after the session
// could not be committed: the ErrorHandler has answered instead, and what
// the handler writes is dropped.
var ErrDiscarded = errors.New("middleware: response discarded: the session could not be committed and the error handler answered")

// Commit phases of a writer.
const (
	pending uint8 = iota // nothing written, session not committed
	open                 // committed; writes pass through
	failed               // commit failed; writes are discarded
)

// state is one request's session state, and the request's context (its
// parent's, plus itself under ctxKey and its Middleware's key).
//
// mu guards what Get, callable from any goroutine of the request, shares
// with the commit.
type state struct {
	context.Context // the request's original context
	mw              *Middleware
	req             *http.Request

	mu        sync.Mutex
	sess      *session.Session // opened on first Get
	committed bool             // commit has begun
	// via is the channel the request carried its session on, and reqID
	// the ID it named there when the signature verified.
	via   uint8
	reqID string
}

// Channels a request can carry its session on.
const (
	viaNone uint8 = iota
	viaCookie
	viaHeader
)

// writer is the ResponseWriter handlers see, and the request's session
// state. It commits the session before the first byte of the response.
//
// Its write methods are called by one goroutine at a time, as for any
// ResponseWriter.
type writer struct {
	http.ResponseWriter
	state

	phase uint8
}

// Value returns the state itself for ctxKey and for its Middleware's key,
// making it the request's context, and defers every other key to the
// original context.
func (s *state) Value(key any) any {
	switch k := key.(type) {
	case ctxKey:
		return s
	case mwKey:
		if k.m == s.mw {
			return s
		}
	}
	return s.Context.Value(key)
}

// session opens the request's session on first use. A session first asked
// for after the commit is committed at once, so that changes to it fail
// with session.ErrCommitted rather than vanish.
func (s *state) session() *session.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sess == nil {
		m := s.mw
		// The signature is checked before the Manager ever sees the ID, so
		// a forged cookie or token costs no store call.
		if v, ok := m.token.read(s.req.Header); ok {
			s.via = viaHeader
			s.reqID, _ = m.keys.verify(v)
		} else if m.useCookie {
			if v, ok := readCookie(s.req.Header, m.cookie.name); ok {
				s.via = viaCookie
				s.reqID, _ = m.keys.verify(v)
			}
		}
		s.sess = m.mgr.Open(s.Context, s.reqID)
		if m.autoSecure && !m.cookie.secure {
			// The record stores "secure" as this request saw it, as
			// express-session's secure: 'auto' does.
			s.sess.SetRequestSecure(m.secure(s.req))
		}
		if s.committed {
			// Never loaded, so this only marks it committed.
			_, _ = m.mgr.Commit(s.Context, s.sess)
		}
	}
	return s.sess
}

// commit commits the session once and reports whether the response may be
// written.
func (w *writer) commit() bool {
	switch w.phase {
	case open:
		return true
	case failed:
		return false
	}
	w.phase = open
	if err := w.commitTo(w.Header()); err != nil {
		w.phase = failed
		w.mw.fail(w.ResponseWriter, w.req, err)
		return false
	}
	return true
}

// commitTo commits the session, when the request used it, and adds the
// headers that follow to h. Only its first call does anything.
func (s *state) commitTo(h http.Header) error {
	s.mu.Lock()
	done := s.committed
	s.committed = true
	sess := s.sess
	s.mu.Unlock()
	if done || sess == nil {
		return nil
	}
	m := s.mw
	res, err := m.mgr.Commit(s.Context, sess)
	if errors.Is(err, session.ErrEnded) {
		// Another request ended the session (logout, revoke, renew) while
		// this one ran: nothing was saved, and the cookie and token are
		// left alone, since that request already answered for them and a
		// newer login may have set new ones. The handler's response is
		// sent as written.
		err = nil
	}
	if err != nil {
		return err
	}
	// What the handler wrote may depend on the session, and so on the
	// cookie or token.
	addVary(h, m.vary)
	// A request answers on the channel it came on; one that came on
	// neither gets every configured one.
	cookie := m.useCookie && s.via != viaHeader
	token := m.token.request != "" && s.via != viaCookie
	switch res.Cookie {
	case session.CookieSet:
		if cookie {
			h.Add("Set-Cookie", m.cookie.setCookie(m.keys.sign(res.ID), res.ExpiresAt, res.BrowserSession, m.secure(s.req)))
			noStore(h)
		}
		// A touch keeps the ID, and so the token: it is sent only when new.
		if token && res.ID != s.reqID {
			h.Set(m.token.response, m.keys.sign(res.ID))
			noStore(h)
		}
	case session.CookieClear:
		if cookie {
			h.Add("Set-Cookie", m.cookie.clearCookie(m.secure(s.req)))
			noStore(h)
		}
		if token {
			// Present and empty: the client's token is dead.
			h[m.token.response] = []string{""}
			noStore(h)
		}
	}
	return nil
}

// fail answers with the ErrorHandler in place of the handler's response.
func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, err error) {
	// The handler's headers (Content-Type, Content-Length, a Location)
	// describe a response that will not be sent.
	clear(w.Header())
	m.log.LogAttrs(r.Context(), slog.LevelError, "session commit failed; error handler answers",
		slog.String("err", err.Error()), slog.Bool("unavailable", Unavailable(err)))
	m.onError(w, r, err)
}

// addVary adds each of names to the Vary header unless it is already
// covered.
func addVary(h http.Header, names []string) {
next:
	for _, name := range names {
		for _, v := range h["Vary"] {
			for f := range strings.SplitSeq(v, ",") {
				f = strings.TrimSpace(f)
				if f == "*" || strings.EqualFold(f, name) {
					continue next
				}
			}
		}
		h.Add("Vary", name)
	}
}

// noStore makes the response uncacheable, since a cache that replayed it
// would hand this session's cookie to others. A Cache-Control the handler
// set is kept only when it already holds no-store (such as "private,
// no-store"); any other value is replaced.
func noStore(h http.Header) {
	for _, v := range h["Cache-Control"] {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "no-store") {
				return
			}
		}
	}
	h.Set("Cache-Control", "no-store")
}

// WriteHeader commits the session, then writes the header. Informational
// 1xx headers other than 101 are passed on without committing, since the
// final response is still to come.
func (w *writer) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if w.phase != failed {
			w.ResponseWriter.WriteHeader(code)
		}
		return
	}
	if w.commit() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *writer) Write(p []byte) (int, error) {
	if !w.commit() {
		return 0, ErrDiscarded
	}
	return w.ResponseWriter.Write(p)
}

// WriteString spares io.WriteString a copy of s.
func (w *writer) WriteString(s string) (int, error) {
	if !w.commit() {
		return 0, ErrDiscarded
	}
	return io.WriteString(w.ResponseWriter, s)
}

// ReadFrom keeps the underlying writer's ReadFrom (sendfile) reachable.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if !w.commit() {
		return 0, ErrDiscarded
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
}

// FlushError commits the session and flushes; http.ResponseController
// calls it.
func (w *writer) FlushError() error {
	if !w.commit() {
		return ErrDiscarded
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush is FlushError for callers of http.Flusher.
func (w *writer) Flush() { _ = w.FlushError() }

// Hijack commits the session, then hands over the connection. The session
// cookie, if one is due, is in Header() for the handler to send itself.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.commit() {
		return nil, nil, ErrDiscarded
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the underlying writer, for the
// methods the wrapper does not need to intercept (deadlines, full duplex).
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
