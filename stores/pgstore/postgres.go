// Package pgstore is a session store on PostgreSQL (pgx/v5) that uses the
// table of Node's connect-pg-simple, so a Go service and an Express app can
// share one session table:
//
//	CREATE TABLE "session" ("sid" varchar NOT NULL COLLATE "default",
//	  "sess" json NOT NULL, "expire" timestamp(6) NOT NULL,
//	  CONSTRAINT "session_pkey" PRIMARY KEY ("sid"));
//	CREATE INDEX "IDX_session_expire" ON "session" ("expire");
//
// The sess column holds exactly the bytes the codec wrote, so the store
// accepts only the JSON codec (see CheckCodec).
//
// # Expiry
//
// The expire column is a timestamp without time zone. Like connect-pg-simple,
// the store writes and compares it only through to_timestamp(seconds), with
// seconds = ceil(unix milliseconds / 1000) computed in Go, both for the
// record's expiry and for "now". PostgreSQL converts both sides with the
// session's TimeZone, so Go and Node agree whatever the server's TimeZone is;
// the store never binds a time.Time to expire and never changes TimeZone.
// Expiry is therefore kept to whole seconds, rounded up.
//
// # Users
//
// UserSessions finds the sessions of a user by reading the top-level key
// Options.UserKey of sess (sess ->> 'user_id' by default). The user is derived
// from the stored data, so LinkUser and UnlinkUser do nothing, every save and
// touch costs exactly one statement, links can never outlive their sessions,
// and sessions written by a Node app that keeps its user id under the same
// key are found too; Options.UserKey must name the same key as the Manager's
// session.Config.UserKey (both default to "user_id"). A side table was
// rejected because Node would neither fill nor clean it, and every Go save
// and touch would cost a second write.
//
// The table stays exactly as Node expects. An expression index on
// (sess ->> UserKey), "IDX_<table>_user", makes UserSessions an index lookup
// instead of a scan; New creates it only when Options.UserIndex is set and it
// creates the table itself. It is off by default because PostgreSQL cannot
// evaluate it on a document holding the escape \u0000 anywhere (a NUL
// character in any string, which JSON.stringify writes for user input that
// contains one): with the index such a session cannot be saved, by Go or by
// Node. Without the index nothing can fail a write; when such a row exists,
// UserSessions falls back to reading the live rows and decoding the key in Go.
//
// # Pruning
//
// Expired rows are never returned, and are deleted in batches of
// Options.PruneBatch rows, each batch its own short transaction, so that
// concurrent writers are never stalled behind one huge DELETE. A background
// loop prunes on a jittered interval; among all processes sharing the table,
// only the one holding a PostgreSQL advisory lock prunes at a time. Close
// stops the loop. The lock is a session-level one, held on one connection
// for the round: behind a proxy that pools by transaction (PgBouncer in
// transaction mode) it cannot work, so disable the loop there
// (PruneInterval < 0) and prune from one place (Prune, sessionctl prune).
//
// # Concurrent writes
//
// The store implements session.ConditionalStore without touching the table:
// the version is the row's xmin (the transaction that wrote its current
// version), read in the same SELECT as sess, and Replace is one UPDATE
// conditioned on it, so a request never writes over a row that changed after
// it loaded it, and never writes back a row that was deleted. Every write
// changes xmin: ours, connect-pg-simple's set and touch, and a Touch of ours
// too, which costs a request that loaded before the touch one reload and
// retry (touches are throttled). Comparing the stored text instead would
// leave touches alone but send every document twice; see conditional.go and
// BENCHMARKS.md.
//
// # Pools
//
// The Store runs on any pgxpool.Pool, in every pgx query exec mode,
// including the simple protocol. It never changes the session's settings.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/session"
)

// Options configure a Store. The zero value is usable: table "session" in
// the connection's search_path, no table creation, pruning every 15 minutes.
type Options struct {
	// Schema holds the table. The default, empty, leaves the table name
	// unqualified, so the connection's search_path decides.
	Schema string

	// Table is the table name; the primary key constraint is named
	// "<Table>_pkey" and the expire index "IDX_<Table>_expire". The
	// default is "session".
	Table string

	// CreateTable creates the table, its primary key and its indexes when
	// the table is missing. It is safe when many processes start at once.
	// An existing table is used as it is. The default is false: New fails
	// when the table is missing.
	CreateTable bool

	// PruneInterval is the mean interval of the background pruning of
	// expired rows; each wait is drawn between half and one and a half
	// times it, so that processes started together do not prune together.
	// The default is 15 minutes; a negative value disables the loop
	// (Prune can still be called).
	PruneInterval time.Duration

	// PruneBatch bounds the rows one DELETE transaction removes. The
	// default is 1000.
	PruneBatch int

	// UserKey is the top-level key of sess that holds the user id, for
	// UserSessions. The default is "user_id".
	UserKey string

	// UserIndex, with CreateTable, adds an expression index on sess ->>
	// UserKey when the table is created, so UserSessions does not scan the
	// table; a session containing the JSON escape \u0000 then cannot be
	// saved (see the package documentation). The default is false.
	UserIndex bool

	// Logger receives the background pruning's errors and results. The
	// default is slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultTable         = "session"
	DefaultPruneInterval = 15 * time.Minute
	DefaultPruneBatch    = 1000
	DefaultUserKey       = "user_id"
)

// iteratePage is how many rows one Iterate query fetches.
const iteratePage = 500

func (o Options) withDefaults() (Options, error) {
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if o.PruneInterval == 0 {
		o.PruneInterval = DefaultPruneInterval
	}
	if o.PruneBatch <= 0 {
		o.PruneBatch = DefaultPruneBatch
	}
	if o.UserKey == "" {
		o.UserKey = DefaultUserKey
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	for _, s := range []string{o.Schema, o.Table, o.UserKey} {
		if strings.ContainsRune(s, 0) {
			return o, errors.New("postgres: Schema, Table and UserKey must not contain a NUL byte")
		}
	}
	return o, nil
}

// Store is a session.Store on a PostgreSQL table. It is safe for concurrent
// use. Besides session.Store it implements session.Counter, session.Pruner,
// session.Iterator, session.UserIndex, session.Pinger, session.Checker,
// session.ExpiredCounter, session.CodecChecker and io.Closer.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
	opts    Options
	names   names
	q       queries
	cq      condQueries // conditional.go
	// textJSON: the pool's exec mode sends arguments without asking the
	// server for their types, and would send []byte as bytea.
	textJSON bool

	closed    atomic.Bool
	closeOnce sync.Once
	stop      context.CancelFunc
	loopDone  chan struct{}

	// Test hooks, set before the store is used.
	batchHook func(n int64)     // after each prune DELETE
	loopHook  func(pruned bool) // after each background round
}

var (
	_ session.Store          = (*Store)(nil)
	_ session.Counter        = (*Store)(nil)
	_ session.Pruner         = (*Store)(nil)
	_ session.Iterator       = (*Store)(nil)
	_ session.UserIndex      = (*Store)(nil)
	_ session.UserKeyer      = (*Store)(nil)
	_ session.Pinger         = (*Store)(nil)
	_ session.CodecChecker   = (*Store)(nil)
	_ session.Checker        = (*Store)(nil)
	_ session.ExpiredCounter = (*Store)(nil)
)

// New returns a Store on the caller's pool, which the Store never closes.
// It checks that the table exists, creating it first when opts.CreateTable
// is set, and starts the background pruning unless opts.PruneInterval is
// negative. Close stops it.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("postgres: New needs a non-nil pool")
	}
	return newStore(ctx, pool, false, opts)
}

func newStore(ctx context.Context, pool *pgxpool.Pool, own bool, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool, ownPool: own, opts: opts, names: makeNames(opts)}
	switch pool.Config().ConnConfig.DefaultQueryExecMode {
	case pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol:
		s.textJSON = true
	}
	s.q = makeQueries(s.names)
	s.cq = makeCondQueries(s.names)
	if err := s.ensureTable(ctx); err != nil {
		return nil, err
	}
	s.startPruneLoop()
	return s, nil
}

// startPruneLoop starts the background pruning, if enabled; Close stops it.
func (s *Store) startPruneLoop() {
	loopCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.loopDone = make(chan struct{})
	if s.opts.PruneInterval > 0 {
		go s.pruneLoop(loopCtx)
	} else {
		close(s.loopDone)
	}
}

// Close stops the background pruning, waiting for a round in progress to
// end, and closes the pool if the Store opened it (Open). Further calls on
// the Store return session.ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stop()
		<-s.loopDone
		if s.ownPool {
			s.pool.Close()
		}
	})
	return nil
}

// Pool returns the pool the Store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Table returns the quoted, possibly schema-qualified table name.
func (s *Store) Table() string { return s.names.table }

// CheckCodec accepts only the "json" codec: the sess column is json, and
// Node reads it as JSON.
func (s *Store) CheckCodec(c session.Codec) error {
	if c == nil || c.Name() != "json" {
		name := "<nil>"
		if c != nil {
			name = c.Name()
		}
		return fmt.Errorf("postgres: the sess column is json, so the store needs the json codec, not %q: %w", name, session.ErrUnsupported)
	}
	return nil
}

// unixCeil is connect-pg-simple's timestamp: Math.ceil(ms / 1000).
func unixCeil(t time.Time) int64 {
	ms := t.UnixMilli()
	s := ms / 1000
	if ms%1000 > 0 {
		s++
	}
	return s
}

func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if s.closed.Load() {
		return fmt.Errorf("postgres: %s: %w: %w", op, session.ErrClosed, err)
	}
	// A *pgconn.PgError already reads "… (SQLSTATE xxxxx)".
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, session.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: %w", session.ErrClosed)
	}
	return nil
}

// Load returns the sess of id, as stored, and its expiry, when its expire
// is not before now (both in whole seconds, rounded up). The bytes are
// returned even when they are not a session this library wrote (JSON
// without a cookie, an array); the Manager's codec decides.
func (s *Store) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	if err := s.checkOpen(); err != nil {
		return nil, time.Time{}, false, err
	}
	var (
		data []byte
		ms   int64
	)
	err := s.pool.QueryRow(ctx, s.q.load, id, unixCeil(time.Now())).Scan(&data, &ms)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, s.wrap("load", err)
	}
	return data, time.UnixMilli(ms), true, nil
}

// Save upserts data, which must be JSON, and expiresAt in one statement.
func (s *Store) Save(ctx context.Context, id string, data []byte, expiresAt time.Time) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q.save, s.jsonArg(data), unixCeil(expiresAt), id)
	return s.wrap("save", err)
}

// Touch moves the expiry of an unexpired record; a missing or expired one
// is left alone.
func (s *Store) Touch(ctx context.Context, id string, expiresAt time.Time) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q.touch, unixCeil(expiresAt), id, unixCeil(time.Now()))
	return s.wrap("touch", err)
}

// Delete removes id's row, if any.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q.del, id)
	return s.wrap("delete", err)
}

// Count returns the number of unexpired rows.
func (s *Store) Count(ctx context.Context) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var n int64
	err := s.pool.QueryRow(ctx, s.q.count, unixCeil(time.Now())).Scan(&n)
	return n, s.wrap("count", err)
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.wrap("ping", s.pool.Ping(ctx))
}

// Iterate calls fn for each unexpired row, in order of sid, fetching pages
// of a few hundred rows by keyset (sid > last), so neither the server nor
// the process holds the whole table. No connection is held while fn runs,
// so fn may use the Store.
func (s *Store) Iterate(ctx context.Context, fn func(session.Record) error) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var (
		page  []session.Record
		last  string
		first = true
	)
	for {
		page = page[:0]
		now := unixCeil(time.Now())
		var rows pgx.Rows
		var err error
		if first {
			rows, err = s.pool.Query(ctx, s.q.iterFirst, now, iteratePage)
		} else {
			rows, err = s.pool.Query(ctx, s.q.iterNext, now, iteratePage, last)
		}
		if err != nil {
			return s.wrap("iterate", err)
		}
		for rows.Next() {
			var (
				r  session.Record
				ms int64
			)
			if err := rows.Scan(&r.ID, &r.Data, &ms); err != nil {
				rows.Close()
				return s.wrap("iterate", err)
			}
			r.ExpiresAt = time.UnixMilli(ms)
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.wrap("iterate", err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < iteratePage {
			return nil
		}
		first = false
		last = page[len(page)-1].ID
	}
}

// LinkUser does nothing: the user is read from sess itself.
func (s *Store) LinkUser(ctx context.Context, user, id string, expiresAt time.Time) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return ctx.Err()
}

// UnlinkUser does nothing: the user is read from sess itself.
func (s *Store) UnlinkUser(ctx context.Context, user, id string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return ctx.Err()
}

// UserKey returns the top-level key of sess that UserSessions reads the user
// from; session.New refuses a Manager whose Config.UserKey differs.
func (s *Store) UserKey() string { return s.opts.UserKey }

// UserSessions returns the IDs of the unexpired rows whose sess has user as
// the text of its top-level key Options.UserKey (a JSON number 42 matches
// "42").
func (s *Store) UserSessions(ctx context.Context, user string) ([]string, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.user, user, unixCeil(time.Now()))
	if err != nil {
		return nil, s.wrap("user sessions", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if SQLState(err) == "22P05" {
		// A row holds \u0000, which PostgreSQL cannot turn into text.
		return s.userSessionsSlow(ctx, user)
	}
	if err != nil {
		return nil, s.wrap("user sessions", err)
	}
	return ids, nil
}

// userSessionsSlow reads every live row and decodes the user key in Go.
func (s *Store) userSessionsSlow(ctx context.Context, user string) ([]string, error) {
	var ids []string
	err := s.Iterate(ctx, func(r session.Record) error {
		if u, ok := topLevelText(r.Data, s.opts.UserKey); ok && u == user {
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// topLevelText returns what PostgreSQL's ->> would for key: a string's
// value, any other value's JSON text, nothing for null or a non-object.
func topLevelText(doc []byte, key string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return "", false
	}
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return "", false
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, true
	}
	return string(raw), true
}

// SQLState returns the SQLSTATE code of a PostgreSQL error in err's chain,
// or "" when there is none (a network error, a closed store).
func SQLState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
