package session

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Config configures a Manager. Only Store and Codec are required; every other
// field has a documented default.
type Config struct {
	// Store persists the sessions. Required.
	Store Store
	// Codec encodes sessions for the store. Required; codecs/jsoncodec writes the
	// express-session format and is the usual choice.
	Codec Codec

	// IdleTimeout ends a session that has seen no request for this long. The
	// default is 24 hours; a negative value disables it, leaving only the
	// absolute timeout.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created, however
	// active it is. The default is 7 days; a negative value disables it.
	// Sessions written by another application without this library's
	// metadata get their deadline when this library first saves them.
	AbsoluteTimeout time.Duration
	// TouchInterval is how far the idle expiry must have fallen behind before
	// an unmodified session's expiry is moved forward with a Touch, so that a
	// read-heavy site does not write on every request. The default is a tenth
	// of IdleTimeout; a negative value touches on every request.
	TouchInterval time.Duration

	// UserKey is the top-level value key that holds the user ID for
	// SetUser, User and the per-user operations. The default is "user_id".
	UserKey string

	// Cookie holds the cookie settings. They are mirrored into every stored
	// record (express-session keeps them there) and used by the middleware.
	Cookie CookieOptions

	// ConflictRetries bounds how many times Commit reloads and re-applies a
	// request's changes when another writer changed the record first (see
	// ConditionalStore); each retry costs one write and at most one load
	// (none when the store's Replace returns a StaleError). With n
	// requests of one session committing at once, a request can lose at most
	// n-1 times. The default is DefaultConflictRetries (32); a negative
	// value never retries.
	ConflictRetries int

	// Logger receives store failures and late changes, with hashed IDs and
	// never session data. The default is slog.Default().
	Logger *slog.Logger
	// Metrics receives store call timings and session events. The default
	// discards them, and store calls then go untimed.
	Metrics Metrics

	// IDHashKey, when set, makes the Manager keep each session in the store
	// under a keyed hash of its ID (see HashID) instead of the ID itself,
	// so that what the store holds (a backup, a copied table, what a
	// read-only SQL injection reads) names no live session: the ID exists
	// only in the client's cookie. It must be at least 32 bytes and stay
	// the same while sessions live; a new key ends them all. The user index
	// and Info.ID (UserSessions, Others) hold the hashed keys, which
	// RevokeUser and sessionctl use as they are. Only for deployments where
	// Go alone reads the store: a Node app looks a session up by its
	// cookie's ID, so express.New refuses it. The default, nil,
	// stores IDs as they are.
	IDHashKey []byte

	// now is the clock, replaceable in this package's tests.
	now func() time.Time
}

// CookieOptions describes the session cookie.
type CookieOptions struct {
	// Name is the cookie name. The default is "session"; express-session's
	// is "connect.sid".
	Name string
	// Path defaults to "/".
	Path   string
	Domain string
	// Secure sends the cookie over HTTPS only.
	Secure bool
	// ScriptAccessible leaves out HttpOnly, letting page scripts read the
	// cookie. The default (false) sets HttpOnly.
	ScriptAccessible bool
	// SameSite is SameSiteLax (the default), SameSiteStrict, SameSiteNone
	// (which requires Secure) or SameSiteOff (no attribute). ParseSameSite
	// reads it from configuration text.
	SameSite SameSite
	// Partitioned sets the CHIPS Partitioned attribute; it requires Secure.
	Partitioned bool
	// Priority is PriorityLow, PriorityMedium, PriorityHigh or empty (no
	// attribute). ParsePriority reads it from configuration text.
	Priority Priority
	// BrowserSession makes a cookie without Expires or Max-Age, which the
	// browser drops when it closes. The default is a persistent cookie that
	// expires with the session.
	BrowserSession bool
}

// Manager owns the session semantics over a Store: IDs, timeouts, dirty
// tracking, throttled touches, rotation and per-user revocation. It is safe
// for concurrent use; create one per application.
type Manager struct {
	cfg     Config
	store   Store
	codec   Codec
	log     *slog.Logger
	metrics Metrics
	// timed: a Metrics sink was configured, so store calls are timed; without
	// one the clock is not read for them.
	timed bool

	counter Counter
	pruner  Pruner
	users   UserIndex
	pinger  Pinger
	// cond is the store's conditional save, nil when it has none.
	cond ConditionalStore
	// linked remembers recent user links, so that reads of a session
	// another application wrote do not link it again (see linkForeign).
	linked linkMemo
}

// New checks cfg, applies its defaults and returns a Manager. It discovers
// the store's optional capabilities once, here.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("session: Config.Store is required")
	}
	if cfg.Codec == nil {
		return nil, errors.New("session: Config.Codec is required (codecs/jsoncodec writes the express-session format)")
	}
	if cc, ok := cfg.Store.(CodecChecker); ok {
		if err := cc.CheckCodec(cfg.Codec); err != nil {
			return nil, fmt.Errorf("session: store cannot hold %q payloads: %w", cfg.Codec.Name(), err)
		}
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 24 * time.Hour
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = 7 * 24 * time.Hour
	}
	if cfg.IdleTimeout < 0 && cfg.AbsoluteTimeout < 0 {
		return nil, errors.New("session: IdleTimeout and AbsoluteTimeout are both disabled; sessions would never expire")
	}
	if cfg.TouchInterval == 0 && cfg.IdleTimeout > 0 {
		cfg.TouchInterval = cfg.IdleTimeout / 10
	}
	if cfg.UserKey == "" {
		cfg.UserKey = "user_id"
	}
	if err := checkKey(cfg.Codec, cfg.UserKey); err != nil {
		return nil, fmt.Errorf("session: Config.UserKey: %w", err)
	}
	if err := cfg.Cookie.check(); err != nil {
		return nil, err
	}
	if cfg.IDHashKey != nil && len(cfg.IDHashKey) < MinIDHashKeyLen {
		return nil, fmt.Errorf("session: Config.IDHashKey is %d bytes; it needs at least %d random bytes", len(cfg.IDHashKey), MinIDHashKeyLen)
	}
	if cfg.ConflictRetries == 0 {
		cfg.ConflictRetries = DefaultConflictRetries
	}
	cfg.IDHashKey = bytes.Clone(cfg.IDHashKey)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = nopMetrics{}
	}
	_, nop := cfg.Metrics.(nopMetrics)
	if cfg.now == nil {
		cfg.now = time.Now
	}
	m := &Manager{cfg: cfg, store: cfg.Store, codec: cfg.Codec, log: cfg.Logger, metrics: cfg.Metrics, timed: !nop}
	m.counter, _ = cfg.Store.(Counter)
	m.pruner, _ = cfg.Store.(Pruner)
	m.users, _ = cfg.Store.(UserIndex)
	if uk, ok := cfg.Store.(UserKeyer); ok && m.users != nil && uk.UserKey() != cfg.UserKey {
		return nil, fmt.Errorf("session: Config.UserKey is %q but the store finds users under %q; set both to the same key", cfg.UserKey, uk.UserKey())
	}
	m.pinger, _ = cfg.Store.(Pinger)
	m.cond, _ = cfg.Store.(ConditionalStore)
	return m, nil
}

// Config returns the configuration in effect, defaults applied.
func (m *Manager) Config() Config { return m.cfg }

// Store returns the store the Manager was built on.
func (m *Manager) Store() Store { return m.store }

// Codec returns the codec the Manager was built with.
func (m *Manager) Codec() Codec { return m.codec }

// Open returns the session for id, the value of a verified cookie, or a new
// session when id is empty. It makes no store call: the record is loaded on
// first use, so a request that never reads its session costs nothing. ctx is
// used for that load and for later store calls made through the session.
func (m *Manager) Open(ctx context.Context, id string) *Session {
	return &Session{m: m, ctx: ctx, id: id, loaded: id == "", isNew: id == ""}
}

// idleFor returns the idle timeout of the session in st: the window its
// record carries as the cookie's originalMaxAge (set by SetIdleTimeout, or by
// a Node app's per-session maxAge), else IdleTimeout. Like express-session, a
// session keeps the window it was given; a lowered IdleTimeout applies to new
// sessions, and the absolute timeout bounds the old ones.
func (m *Manager) idleFor(st *State) time.Duration {
	if ms := st.Cookie.OriginalMaxAge; ms != nil && *ms > 0 {
		return time.Duration(*ms) * time.Millisecond
	}
	return m.cfg.IdleTimeout
}

// expiry returns when the session in st, active now, expires.
func (m *Manager) expiry(now time.Time, st *State) time.Time {
	if m.cfg.IdleTimeout < 0 {
		return st.Deadline
	}
	exp := now.Add(m.idleFor(st))
	if !st.Deadline.IsZero() && exp.After(st.Deadline) {
		return st.Deadline
	}
	return exp
}

// Count returns the number of live sessions, or ErrUnsupported.
func (m *Manager) Count(ctx context.Context) (int64, error) {
	if m.counter == nil {
		return 0, fmt.Errorf("%w: %T does not implement session.Counter", ErrUnsupported, m.store)
	}
	start := m.start()
	n, err := m.counter.Count(ctx)
	m.observe(ctx, OpCount, "", start, err)
	return n, err
}

// Prune deletes expired sessions and returns how many it removed, or
// ErrUnsupported.
func (m *Manager) Prune(ctx context.Context) (int64, error) {
	if m.pruner == nil {
		return 0, fmt.Errorf("%w: %T does not implement session.Pruner", ErrUnsupported, m.store)
	}
	start := m.start()
	n, err := m.pruner.Prune(ctx)
	m.observe(ctx, OpPrune, "", start, err)
	if n > 0 {
		m.metrics.SessionEvent(EventPruned, n)
	}
	return n, err
}

// Ping checks the store's health; stores without Pinger are assumed healthy.
func (m *Manager) Ping(ctx context.Context) error {
	if m.pinger == nil {
		return ctx.Err()
	}
	return m.pinger.Ping(ctx)
}

// Close closes the store when it implements io.Closer.
func (m *Manager) Close() error {
	if c, ok := m.store.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// start returns the time a store call starts, for observe; zero when no
// Metrics sink would receive its latency.
func (m *Manager) start() time.Time {
	if m.timed {
		return time.Now()
	}
	return time.Time{}
}

// observe records one store call in metrics and logs its failure.
func (m *Manager) observe(ctx context.Context, op Op, id string, start time.Time, err error) {
	if m.timed {
		m.metrics.StoreCall(op, time.Since(start), err)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		attrs := []slog.Attr{slog.String("op", string(op)), slog.String("err", err.Error())}
		if id != "" {
			attrs = append(attrs, slog.String("session", LogID(id)))
		}
		m.log.LogAttrs(ctx, slog.LevelError, "session store call failed", attrs...)
	}
}

// MinIDHashKeyLen is the shortest Config.IDHashKey the Manager accepts.
const MinIDHashKeyLen = 32

// HashID returns what a Manager whose Config.IDHashKey is key stores the
// session id under: HMAC-SHA256 of id, as 43 unpadded base64url characters.
// Tools that look a cookie's session up in the store (sessionctl cookie
// verify) use it; nothing can turn the result back into the ID.
func HashID(key []byte, id string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// key returns the store key of the session id: id itself, or its hash when
// Config.IDHashKey is set. The empty ID (no stored session) stays empty.
func (m *Manager) key(id string) string {
	if m.cfg.IDHashKey == nil || id == "" {
		return id
	}
	return HashID(m.cfg.IDHashKey, id)
}

// load, save, touch, delete, link and unlink take a session's ID, the one
// in its cookie; loadKey, deleteKey and unlinkKey take a store key, as the
// user index returns them.
func (m *Manager) load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	if !storableID(id) {
		return nil, time.Time{}, false, nil
	}
	return m.loadKey(ctx, m.key(id))
}

func (m *Manager) loadKey(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	start := m.start()
	data, exp, found, err := m.store.Load(ctx, id)
	m.observe(ctx, OpLoad, id, start, err)
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("session: load: %w", err)
	}
	return data, exp, found, nil
}

// loadForRequest loads a request's record, with its version when the store
// is conditional: still one round trip.
func (m *Manager) loadForRequest(ctx context.Context, id string) ([]byte, time.Time, []byte, bool, error) {
	if m.cond != nil {
		return m.loadVersion(ctx, id)
	}
	data, exp, found, err := m.load(ctx, id)
	return data, exp, nil, found, err
}

func (m *Manager) save(ctx context.Context, id string, data []byte, exp time.Time) error {
	id = m.key(id)
	start := m.start()
	err := m.store.Save(ctx, id, data, exp)
	m.observe(ctx, OpSave, id, start, err)
	if err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	return nil
}

func (m *Manager) touch(ctx context.Context, id string, exp time.Time) error {
	id = m.key(id)
	start := m.start()
	err := m.store.Touch(ctx, id, exp)
	m.observe(ctx, OpTouch, id, start, err)
	if err != nil {
		return fmt.Errorf("session: touch: %w", err)
	}
	return nil
}

func (m *Manager) delete(ctx context.Context, id string) error {
	return m.deleteKey(ctx, m.key(id))
}

func (m *Manager) deleteKey(ctx context.Context, id string) error {
	start := m.start()
	err := m.store.Delete(ctx, id)
	m.observe(ctx, OpDelete, id, start, err)
	if err != nil {
		return fmt.Errorf("session: delete: %w", err)
	}
	return nil
}

// storableID reports whether id can name a stored record. A cookie may
// carry any bytes its signer signed, but PostgreSQL refuses NUL and invalid
// UTF-8 with an error, and no Node app can write such an ID (JavaScript
// strings reach the stores as UTF-8): such an ID is simply not found, on
// every store alike, and costs no store call.
func storableID(id string) bool {
	return utf8.ValidString(id) && strings.IndexByte(id, 0) < 0
}

// decode turns a stored record into a State. An undecodable record is
// reported and treated as missing, so one corrupt row never fails a request.
func (m *Manager) decode(ctx context.Context, id string, data []byte, st *State) bool {
	if err := m.codec.Decode(data, st); err != nil {
		*st = State{} // a codec may have filled part of it
		m.metrics.SessionEvent(EventUndecodable, 1)
		m.log.LogAttrs(ctx, slog.LevelWarn, "session record undecodable; treated as missing",
			slog.String("session", LogID(id)), slog.String("codec", m.codec.Name()), slog.String("err", err.Error()))
		return false
	}
	if st.Values == nil {
		st.Values = map[string]any{}
	}
	return true
}
