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

// writer is the ResponseWriter handlers see, and the request's session
// state. It commits the session before the first byte of the response.
//
// Its write methods are called by one goroutine at a time, as for any
// ResponseWriter; mu guards what Get, callable from any goroutine, shares
// with them.
type writer struct {
	http.ResponseWriter
	context.Context // the request's original context
	mw              *Middleware
	req             *http.Request

	mu        sync.Mutex
	sess      *session.Session // opened on first Get
	committed bool             // commit has begun

	phase uint8
}

// Value returns the writer itself for ctxKey, making it the request's
// context, and defers every other key to the original context.
func (w *writer) Value(key any) any {
	if key == (ctxKey{}) {
		return w
	}
	return w.Context.Value(key)
}

// session opens the request's session on first use. A session first asked
// for after the commit is committed at once, so that changes to it fail
// with session.ErrCommitted rather than vanish.
func (w *writer) session() *session.Session {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sess == nil {
		var id string
		if v, ok := readCookie(w.req.Header, w.mw.cookie.name); ok {
			// The signature is checked before the Manager ever sees the
			// ID, so a forged cookie costs no store call.
			id, _ = w.mw.keys.verify(v)
		}
		w.sess = w.mw.mgr.Open(w.Context, id)
		if w.committed {
			// Never loaded, so this only marks it committed.
			_, _ = w.mw.mgr.Commit(w.Context, w.sess)
		}
	}
	return w.sess
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
	w.mu.Lock()
	w.committed = true
	s := w.sess
	w.mu.Unlock()
	w.phase = open
	if s == nil {
		return true
	}
	res, err := w.mw.mgr.Commit(w.Context, s)
	if errors.Is(err, session.ErrEnded) {
		// Another request ended the session (logout, revoke, renew) while
		// this one ran: nothing was saved, and the cookie is left alone,
		// since that request already answered for it and a newer login may
		// have set a new one. The handler's response is sent as written.
		err = nil
	}
	if err != nil {
		w.phase = failed
		w.mw.fail(w.ResponseWriter, w.req, err)
		return false
	}
	h := w.Header()
	// What the handler wrote may depend on the session, and so on the
	// cookie.
	addVary(h)
	switch res.Cookie {
	case session.CookieSet:
		h.Add("Set-Cookie", w.mw.cookie.setCookie(w.mw.keys.sign(res.ID), res.ExpiresAt, res.BrowserSession, w.mw.secure(w.req)))
		noStore(h)
	case session.CookieClear:
		h.Add("Set-Cookie", w.mw.cookie.clearCookie(w.mw.secure(w.req)))
		noStore(h)
	}
	return true
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

// addVary adds Cookie to the Vary header unless it is already covered.
func addVary(h http.Header) {
	for _, v := range h["Vary"] {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			if f == "*" || strings.EqualFold(f, "Cookie") {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
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
