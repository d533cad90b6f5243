package session

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// Session is one request's view of a session. The Manager's Open returns
// it; the middleware commits it before the response's first byte. Its
// methods are safe for concurrent use by the goroutines of one request.
//
// The stored record is loaded on first use. Changes are tracked per
// top-level key; an unmodified session is never written back, and a new
// session that the handler did not modify is neither saved nor given a
// cookie.
type Session struct {
	m   *Manager
	ctx context.Context

	mu     sync.Mutex
	id     string // current ID; empty for a new session until needed
	loaded bool   // the record was loaded (or there was none to load)
	// reqSecure is the request's scheme as SetRequestSecure gave it (in
	// what would be padding after loaded: a Session stays its size).
	reqSecure uint8
	// loadErr is a failed load: no change may be saved over a record that
	// could not be read.
	loadErr error
	// refused: a change was attempted after the load failed. The handler
	// may have ignored the error (as the README's example does), so the
	// commit fails and the response goes to the error handler instead of
	// a 200 that saved nothing.
	refused    bool
	isNew      bool      // no stored record backs this session
	storedExp  time.Time // the record's expiry as loaded
	loadedAt   time.Time // when the record was loaded: the request's activity time
	state      State
	userAtLoad string
	// fromRecord: state.Cookie came from a stored record, whose cookie
	// kind (persistent or browser-session) is kept.
	fromRecord bool

	dirty     map[string]struct{} // top-level keys changed
	renew     bool                // save under a new ID even if unmodified
	oldID     string              // stored ID to delete at commit (renew, destroy)
	destroyed bool

	committed bool

	// The write model (write.go). version is the store's token for the
	// loaded record (ConditionalStore). updates holds, per key, the Update
	// functions to run again on a fresh record after a conflict; a key the
	// request last Put or Deleted has none (its value is the request's own).
	// idle is the lifetime SetIdleTimeout gave, nil when it was not called.
	version []byte
	updates map[string][]updateFn
	idle    *int64
}

// Values of Session.reqSecure.
const (
	schemeUnknown uint8 = iota // not given: records store Cookie.Secure
	schemeHTTP
	schemeHTTPS
)

// CookieAction tells the middleware what to do with the cookie after a
// commit.
type CookieAction int

const (
	// CookieKeep leaves the cookie alone.
	CookieKeep CookieAction = iota
	// CookieSet writes the cookie with Result.ID and Result.ExpiresAt.
	CookieSet
	// CookieClear expires the cookie.
	CookieClear
)

// CommitResult is the outcome of Manager.Commit.
type CommitResult struct {
	Cookie    CookieAction
	ID        string
	ExpiresAt time.Time
	// BrowserSession asks for a cookie without Expires or Max-Age: the
	// configured kind for a new session, the stored kind for an existing one
	// (a Node app may have chosen either per session).
	BrowserSession bool
}

// browserSession reports whether the session's cookie ends with the
// browser. The caller holds s.mu.
func (s *Session) browserSession() bool {
	switch {
	case s.state.Cookie.OriginalMaxAge != nil:
		return false
	case s.fromRecord:
		return true
	}
	return s.m.cfg.Cookie.BrowserSession
}

// SetRequestSecure tells s whether its request came over HTTPS, for a
// cookie that is Secure only on HTTPS (the middleware's AutoSecure,
// express-session's secure: 'auto'); the middleware calls it when it opens
// the session in that mode. A record this request creates (a new session,
// one given a new ID by Renew, one re-created after Destroy) then stores
// "secure" as the request saw it, and a loaded session keeps what its
// record holds: express-session decides the field once, when it creates the
// session, and so does the Manager. Without a call, or when Cookie.Secure is
// set, every record stores Cookie.Secure.
func (s *Session) SetRequestSecure(secure bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqSecure = schemeHTTP
	if secure {
		s.reqSecure = schemeHTTPS
	}
}

// secureField is the "secure" the record stores at the next save. The
// caller holds s.mu.
func (s *Session) secureField() *bool {
	switch o := s.m.cfg.Cookie.Secure; {
	case o || s.reqSecure == schemeUnknown:
		return ptr(o)
	case !s.isNew:
		// Loaded (or reloaded after a conflict): the record's own value,
		// or none when the record has none, as express-session keeps it.
		return s.state.Cookie.Secure
	}
	return ptr(s.reqSecure == schemeHTTPS)
}

// SetIdleTimeout gives this session its own idle timeout, such as a long
// one for "remember me". It is kept in the record as the cookie's
// originalMaxAge, where express-session keeps a per-session maxAge, so a
// Node app honours it too; the absolute timeout still applies.
func (s *Session) SetIdleTimeout(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("session: SetIdleTimeout(%v): want a positive duration", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	ms := d.Milliseconds()
	s.state.Cookie.OriginalMaxAge = &ms
	s.idle = &ms
	return nil
}

// ensureLoaded loads the record on first use. The caller holds s.mu.
func (s *Session) ensureLoaded() error {
	if s.loaded {
		return s.loadErr
	}
	s.loaded = true
	data, exp, ver, found, err := s.m.loadForRequest(s.ctx, s.id)
	if err != nil {
		s.loadErr = err
		return err
	}
	if found {
		if s.m.decode(s.ctx, s.id, data, &s.state) {
			st := &s.state
			now := s.m.cfg.now()
			if st.Deadline.IsZero() || now.Before(st.Deadline) {
				s.storedExp, s.fromRecord, s.loadedAt, s.version = exp, true, now, ver
				s.userAtLoad = userOf(st.Values, s.m.cfg.UserKey)
				if st.Created.IsZero() && s.userAtLoad != "" && s.m.users != nil {
					// Written by another application, which kept no
					// user index: link it, so revoking the user finds it.
					s.m.linkForeign(s.ctx, s.userAtLoad, s.id, exp)
				}
				return nil
			}
			s.state = State{}
			s.m.metrics.SessionEvent(EventAbsoluteExpired, 1)
			// Past its absolute deadline: remove it now rather than wait
			// for its idle expiry. A failure here is logged and harmless.
			_ = s.m.delete(s.ctx, s.id)
		}
	}
	// No usable record: a fresh session with a fresh ID. The client's ID
	// is never adopted, so a planted cookie cannot fix a session's ID.
	s.isNew = true
	s.id = ""
	return nil
}

// writable checks that a change may be made now. The caller holds s.mu.
func (s *Session) writable() error {
	if s.committed {
		s.m.metrics.SessionEvent(EventLateChange, 1)
		s.m.log.LogAttrs(s.ctx, slog.LevelError, "session changed after the response was committed; change not saved")
		return ErrCommitted
	}
	if err := s.ensureLoaded(); err != nil {
		s.refused = true
		return err
	}
	return nil
}

func (s *Session) markDirty(key string) {
	if s.dirty == nil {
		s.dirty = map[string]struct{}{}
	}
	s.dirty[key] = struct{}{}
}

// ID returns the session's current ID, generating one for a new session.
// It loads the record first, since a cookie naming an unknown session gets a
// new ID.
func (s *Session) ID() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return "", err
	}
	return s.currentID(), nil
}

func (s *Session) currentID() string {
	if s.id == "" {
		s.id = NewID()
	}
	return s.id
}

// IsNew reports whether no stored record backs the session (yet).
func (s *Session) IsNew() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return false, err
	}
	return s.isNew, nil
}

// CreatedAt returns when the session was first saved by this library; zero
// for a new session or one written by another application.
func (s *Session) CreatedAt() (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return time.Time{}, err
	}
	return s.state.Created, nil
}

// Put sets key to value. value must be encodable by the Manager's codec;
// the error for one that is not comes from Commit. The empty key, and the
// keys the codec reserves (see KeyChecker), are refused with ErrReserved.
func (s *Session) Put(key string, value any) error {
	if err := checkKey(s.m.codec, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	if s.state.Values == nil {
		s.state.Values = map[string]any{}
	}
	s.state.Values[key] = value
	s.markDirty(key)
	delete(s.updates, key)
	return nil
}

// Delete removes key. Deleting a missing key changes nothing.
func (s *Session) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	if _, ok := s.state.Values[key]; !ok {
		return nil
	}
	delete(s.state.Values, key)
	s.markDirty(key)
	delete(s.updates, key)
	return nil
}

// Has reports whether key holds a value.
func (s *Session) Has(key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return false, err
	}
	_, ok := s.state.Values[key]
	return ok, nil
}

// Keys returns the session's keys in sorted order.
func (s *Session) Keys() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(s.state.Values)), nil
}

// Clear removes every value, keeping the session and its ID.
func (s *Session) Clear() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	for k := range s.state.Values {
		delete(s.state.Values, k)
		s.markDirty(k)
		delete(s.updates, k)
	}
	return nil
}

// Modified reports whether the session has changes to save.
func (s *Session) Modified() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed() || s.renew
}

// changed reports whether the request changed a value or the lifetime.
func (s *Session) changed() bool { return len(s.dirty) > 0 || s.idle != nil }

// Renew gives the session a new ID, keeping its data; the record under the
// old ID is deleted at commit. Call it on login and on any change of
// privilege, so an ID learned before cannot ride the new rights.
func (s *Session) Renew() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	s.rotate()
	s.renew = true
	return nil
}

// rotate moves the session to a new ID, remembering the stored one for
// deletion at commit. The caller holds s.mu.
func (s *Session) rotate() {
	if !s.isNew && s.oldID == "" {
		s.oldID = s.id
	}
	s.isNew = true
	s.id = NewID()
}

// Destroy deletes the stored session at commit and leaves s as a new, empty
// session with a new ID: values put afterwards (a "signed out" flash) start
// a fresh session, and otherwise the cookie is cleared.
func (s *Session) Destroy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	s.rotate()
	s.destroyed = true
	s.renew = false
	s.dirty, s.updates, s.idle, s.version = nil, nil, nil, nil
	s.state, s.fromRecord = State{}, false
	return nil
}

// SetUser records user as the session's user, under Config.UserKey. It does
// not renew the ID; call Renew on login as well.
func (s *Session) SetUser(user string) error { return s.Put(s.m.cfg.UserKey, user) }

// User returns the session's user, or "" when it has none.
func (s *Session) User() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return "", err
	}
	return userOf(s.state.Values, s.m.cfg.UserKey), nil
}

// userOf reads the user ID under key, accepting the strings and numbers a
// Node application may have stored there.
func userOf(values map[string]any, key string) string {
	v, ok := values[key]
	if !ok {
		return ""
	}
	if r, ok := v.(Raw); ok {
		// A number keeps the text its writer gave it: a Node app's 2**60 is
		// 1152921504606847000, which float64 would print as …6976, and
		// PostgreSQL's sess ->> 'user_id' reads the text too.
		var s string
		if r.DecodeTo(&s) == nil {
			return s
		}
		var n json.Number
		if r.DecodeTo(&n) == nil {
			return n.String()
		}
		var x any
		if r.DecodeTo(&x) != nil {
			return ""
		}
		v = x
	}
	switch u := v.(type) {
	case string:
		return u
	case nil:
		return ""
	case float64, float32:
		// As JSON (and JavaScript) write it, so that the user read back
		// from the stored document is the same.
		b, err := json.Marshal(u)
		if err != nil {
			return fmt.Sprint(u)
		}
		return string(b)
	default:
		return fmt.Sprint(u)
	}
}

// Commit saves what the request changed and tells the caller what to do with
// the cookie. The middleware calls it before the response's first byte; a
// change made to s after Commit returns ErrCommitted. Commit is idempotent.
//
// An unmodified session is not written; one whose idle expiry has fallen
// behind by Config.TouchInterval is touched. A session whose record could not
// be loaded is never written over; when a change to it was attempted, Commit
// returns the load's error, so the request fails even if its handler ignored
// the error of Put.
//
// When the store implements ConditionalStore, a loaded session is saved only
// over the record it loaded: if another request changed the record since,
// Commit reloads it, applies this request's own changes on top (the keys it
// put or deleted, its Update functions run again, its lifetime) and tries
// again, up to Config.ConflictRetries times, then returns an error wrapping
// ErrConflict. If the record is gone (destroyed, revoked, renewed away,
// expired), Commit writes nothing, drops the changes and returns ErrEnded
// with CookieKeep: the response that ended the session already told the
// browser.
func (m *Manager) Commit(ctx context.Context, s *Session) (CommitResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return CommitResult{}, nil
	}
	s.committed = true
	if !s.loaded {
		return CommitResult{}, nil
	}
	if s.loadErr != nil {
		if s.refused || s.changed() || s.renew || s.destroyed {
			return CommitResult{}, fmt.Errorf("session: not saved, the record could not be loaded: %w", s.loadErr)
		}
		return CommitResult{}, nil
	}
	user := userOf(s.state.Values, m.cfg.UserKey)

	var res CommitResult
	switch {
	case s.changed() || s.renew:
		var err error
		if res, err = m.saveSession(ctx, s, m.cfg.now()); err != nil {
			return CommitResult{}, err
		}
	case !s.isNew:
		// An unmodified session slides from the moment it was loaded, which
		// saves reading the clock twice on the read path.
		return m.touchSession(ctx, s, s.loadedAt, user)
	}
	if s.oldID != "" {
		if err := m.delete(ctx, s.oldID); err != nil {
			return res, err
		}
		if m.users != nil && s.userAtLoad != "" {
			m.unlink(ctx, s.userAtLoad, s.oldID)
		}
		if s.destroyed {
			m.metrics.SessionEvent(EventDestroyed, 1)
		} else {
			m.metrics.SessionEvent(EventRenewed, 1)
		}
		if res.Cookie == CookieKeep {
			res.Cookie = CookieClear
		}
	}
	return res, nil
}

// saveSession writes a modified session: through the ConditionalStore when
// the store has it, else with a plain Save (the last writer wins).
func (m *Manager) saveSession(ctx context.Context, s *Session, now time.Time) (CommitResult, error) {
	if m.cond != nil {
		return m.saveConditional(ctx, s, now)
	}
	data, exp, browser, ok, err := m.prepare(s, now)
	if err != nil {
		return CommitResult{}, err
	}
	if !ok {
		// Already past its deadline: nothing to save; end it.
		s.oldID = s.storedID()
		return CommitResult{}, nil
	}
	id := s.currentID()
	if err := m.save(ctx, id, data, exp); err != nil {
		return CommitResult{}, err
	}
	return m.saved(ctx, s, id, exp, browser, false), nil
}

// storedID is the ID of the record backing s, if any.
func (s *Session) storedID() string {
	if s.oldID != "" {
		return s.oldID
	}
	if s.isNew {
		return ""
	}
	return s.id
}

func (m *Manager) touchSession(ctx context.Context, s *Session, now time.Time, user string) (CommitResult, error) {
	if m.cfg.IdleTimeout < 0 {
		return CommitResult{}, nil
	}
	exp := m.expiry(now, &s.state)
	if exp.Sub(s.storedExp) < m.cfg.TouchInterval {
		return CommitResult{}, nil
	}
	if err := m.touch(ctx, s.id, exp); err != nil {
		return CommitResult{}, err
	}
	if m.users != nil && user != "" {
		m.link(ctx, user, s.id, exp)
	}
	s.storedExp = exp
	return CommitResult{Cookie: CookieSet, ID: s.id, ExpiresAt: exp, BrowserSession: s.browserSession()}, nil
}

// fillCookie mirrors the cookie settings into the record, as
// express-session does on every save. A stored session keeps its own
// lifetime: its originalMaxAge (the idle window), or none for a
// browser-session cookie; a new one gets the configured kind. secure is the
// Session's secureField.
func (m *Manager) fillCookie(c *Cookie, browser bool, idle time.Duration, exp time.Time, secure *bool) {
	o := m.cfg.Cookie
	*c = Cookie{Path: o.Path, Domain: o.Domain, Priority: string(o.Priority)}
	if !browser {
		ms := idle.Milliseconds()
		e := exp.UTC()
		c.OriginalMaxAge, c.Expires = &ms, &e
	}
	// express-session stores secure whenever the app sets the option (true,
	// false, or 'auto' resolved when the session is created), and the
	// Manager always has a value for it. A Node app that leaves it unset
	// stores none, which it reads as false.
	c.Secure = secure
	if !o.ScriptAccessible {
		c.HTTPOnly = ptr(true)
	}
	if o.Partitioned {
		c.Partitioned = ptr(true)
	}
	if o.SameSite != SameSiteOff {
		c.SameSite = string(o.SameSite)
	}
}

func ptr[T any](v T) *T { return &v }
