// Package mysqlstore is a session store on MySQL or MariaDB
// (github.com/go-sql-driver/mysql through database/sql) that uses the table
// of Node's express-mysql-session, so a Go service and an Express app can
// share one session table:
//
//	CREATE TABLE IF NOT EXISTS `sessions` (
//	  `session_id` varchar(128) COLLATE utf8mb4_bin NOT NULL,
//	  `expires` int(11) unsigned NOT NULL,
//	  `data` mediumtext COLLATE utf8mb4_bin,
//	  PRIMARY KEY (`session_id`)
//	) ENGINE=InnoDB
//
// The data column holds exactly the bytes the codec wrote, and Node parses
// it with JSON.parse, so the store accepts only the JSON codec (see
// CheckCodec).
//
// # The table New creates
//
// With Options.CreateTable, New creates the table when it is missing, with
// the same columns and three differences Node never notices (see Schema):
// session_id is varbinary(255), expires is a bigint unsigned, and it has an
// index. express-mysql-session's utf8mb4_bin collation pads: "ab" and "ab "
// are the same key, so one ID could read and overwrite another's row, and
// 128 characters is shorter than some applications' IDs; varbinary compares
// bytes exactly. Its int unsigned ends in 2106. Without the index, counting
// and pruning read the whole table.
//
// A table Node created (express-mysql-session creates its own by default) is
// used as it is. New reads its column types: an ID longer than the
// session_id column, or ending in a space when the column pads, is refused
// by Save and never found by Load, and data longer than the data column is
// refused, rather than left to a server that, outside strict SQL mode,
// would cut it short. Check reports what such a table lacks.
//
// # Expiry
//
// expires is an unsigned integer of Unix seconds, so the server's time zone
// plays no part: Go and Node agree whatever time_zone the server or a
// connection has. Like express-mysql-session, the store writes
// round(expiry in ms / 1000) and treats a row as live while expires >=
// round(now in ms / 1000), computing "now" from this process's clock, never
// the server's. A row therefore ends half a second after its whole second,
// and Load reports the last millisecond before that: up to a second after
// the expiry that was saved, never more than a millisecond before it.
// Saving a record with the expiry Load returned keeps expires unchanged. An
// expiry beyond what the column holds (2106 for express-mysql-session's int
// unsigned) is stored as its largest value.
//
// # Conditional saves
//
// The Store implements session.ConditionalStore without a version column,
// which Node would not maintain: the token LoadVersion returns is the
// SHA-256 of the data column as the server holds it (computed in Go from the
// bytes read, unless the connection converts results to another character
// set, in which case the server computes it), and Replace writes only while
// the row is live and SHA2(data, 256) still equals it. Any write that
// changes the document, from Go or from Node, changes the token, so a
// concurrent Node save is detected like a Go one. Touches, from either
// side, change only expires and leave the token alone, as does a save of an
// identical document, which loses nothing.
//
// # Users
//
// UserSessions finds the sessions of a user by reading the top-level key
// Options.UserKey of the JSON document (JSON_EXTRACT), so LinkUser and
// UnlinkUser do nothing, and sessions a Node app wrote with its user id
// under the same key are found too; Options.UserKey must match the
// Manager's session.Config.UserKey (both default to "user_id"). There is no
// index for it: UserSessions reads every live row, which suits "log out
// everywhere" and operator tools, not a request path.
//
// # Pruning
//
// Expired rows are never returned, and are deleted in batches of
// Options.PruneBatch rows, each its own statement, so that writers are
// never stalled behind one huge DELETE. A background loop prunes on a
// jittered interval; among all processes sharing the table only the one
// holding a named lock (GET_LOCK) prunes at a time. Close stops the loop.
// On a table without an index on expires (express-mysql-session creates
// none) each batch reads the table from the start until it has found its
// rows, and under REPEATABLE READ holds locks on the live rows it passed
// until the batch ends, so saves of those sessions wait that long: add the
// index (Check says how). express-mysql-session prunes by itself too
// (clearExpired, one DELETE every 15 minutes); two apps on one table need
// only one of the two.
//
// # Servers
//
// The SQL is the subset MySQL 8 and MariaDB share: no RETURNING, no
// sequences, JSON read with JSON_EXTRACT on the text column, and INSERT …
// ON DUPLICATE KEY UPDATE with VALUES(), which MySQL 8 deprecates but keeps,
// as express-mysql-session uses it. The tests run on MariaDB 10.11; MySQL 8
// has not been run here. UserSessions guards its JSON functions with
// JSON_VALID; should a server still fail on a row whose data is not JSON
// (MySQL raises errors where MariaDB returns NULL), it falls back to
// reading every live row and decoding the key in Go.
package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/sessionkit/session"
)

// Options configure a Store. The zero value is usable: table "sessions" in
// the connection's database, no table creation, pruning every 15 minutes.
type Options struct {
	// Table is the table name, in the connection's default database. The
	// default is "sessions", express-mysql-session's.
	Table string

	// CreateTable creates the table when it is missing, safely when many
	// processes start at once (see the package documentation for how it
	// differs from express-mysql-session's). An existing table is used as
	// it is. The default is false: New fails when the table is missing.
	CreateTable bool

	// PruneInterval is the mean interval of the background pruning of
	// expired rows; each wait is drawn between half and one and a half
	// times it. The default is 15 minutes; a negative value disables the
	// loop (Prune can still be called).
	PruneInterval time.Duration

	// PruneBatch bounds the rows one DELETE removes. The default is 250:
	// on MariaDB, with writers saving meanwhile, their p99 during a prune
	// was mostly lower with batches of 250 than of 1000, for a prune about
	// half as long again (see BENCHMARKS.md).
	PruneBatch int

	// UserKey is the top-level key of the JSON document that holds the user
	// id, for UserSessions. The default is "user_id".
	UserKey string

	// Logger receives the background pruning's errors and results. The
	// default is slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultTable         = "sessions"
	DefaultPruneInterval = 15 * time.Minute
	DefaultPruneBatch    = 250
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
	if strings.ContainsRune(o.Table, 0) || strings.ContainsRune(o.UserKey, 0) {
		return o, errors.New("mysql: Table and UserKey must not contain a NUL byte")
	}
	if len(o.Table) > 64 || strings.HasSuffix(o.Table, " ") {
		return o, fmt.Errorf("mysql: table name %q is not valid: at most 64 characters, no trailing space", o.Table)
	}
	return o, nil
}

// Store is a session.Store on a MySQL or MariaDB table. It is safe for
// concurrent use. Besides session.Store it implements
// session.ConditionalStore, session.Counter, session.Pruner,
// session.Iterator, session.UserIndex, session.UserKeyer, session.Pinger,
// session.CodecChecker, session.Checker, session.ExpiredCounter and
// io.Closer.
type Store struct {
	db    *sql.DB
	ownDB bool
	opts  Options
	table string // quoted
	cols  columns
	stmts stmts
	// lockPrefix names this table's named locks, server-wide.
	lockPrefix string
	// hashHere: LoadVersion hashes the data itself (see ensureTable).
	hashHere bool

	closed    atomic.Bool
	closeOnce sync.Once
	stop      context.CancelFunc
	loopDone  chan struct{}

	// Test hooks, set before the store is used.
	batchHook func(n int64)     // after each prune DELETE
	loopHook  func(pruned bool) // after each background round
}

var (
	_ session.Store            = (*Store)(nil)
	_ session.ConditionalStore = (*Store)(nil)
	_ session.Counter          = (*Store)(nil)
	_ session.Pruner           = (*Store)(nil)
	_ session.Iterator         = (*Store)(nil)
	_ session.UserIndex        = (*Store)(nil)
	_ session.UserKeyer        = (*Store)(nil)
	_ session.Pinger           = (*Store)(nil)
	_ session.CodecChecker     = (*Store)(nil)
	_ session.Checker          = (*Store)(nil)
	_ session.ExpiredCounter   = (*Store)(nil)
)

// New returns a Store on the caller's database handle, which the Store never
// closes. The handle's connections must have a default database (the DSN's
// /dbname). New checks that the table exists, creating it first when
// opts.CreateTable is set, reads its column types, prepares its statements
// and starts the background pruning unless opts.PruneInterval is negative.
// Close stops it.
//
// The statements are prepared once per connection of the handle, and each
// call is then one round trip. Give the handle as many idle connections
// (SetMaxIdleConns) as requests run at once: database/sql keeps 2 by
// default, so under load it closes and opens connections, and each new one
// prepares the statements again. A connection holds 14 of them against the
// server's max_prepared_stmt_count (16382 by default).
func New(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("mysql: New needs a non-nil *sql.DB")
	}
	return newStore(ctx, db, false, opts)
}

func newStore(ctx context.Context, db *sql.DB, own bool, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, ownDB: own, opts: opts, table: quoteIdent(opts.Table)}
	var dbName sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT DATABASE()`).Scan(&dbName); err != nil {
		return nil, s.wrap("connect", err)
	}
	if !dbName.Valid || dbName.String == "" {
		return nil, errors.New("mysql: the connection has no default database; name one in the DSN or URL (…/dbname)")
	}
	s.lockPrefix = lockPrefix(dbName.String, opts.Table)
	if err := s.ensureTable(ctx); err != nil {
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
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
// end, releases the prepared statements, and closes the database handle if
// the Store opened it (Open). Further calls on the Store return
// session.ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stop()
		<-s.loopDone
		s.stmts.close()
		if s.ownDB {
			s.db.Close()
		}
	})
	return nil
}

// DB returns the database handle the Store uses.
func (s *Store) DB() *sql.DB { return s.db }

// Table returns the quoted table name.
func (s *Store) Table() string { return s.table }

// CheckCodec accepts only the "json" codec: Node reads the data column with
// JSON.parse, and the column holds text, not bytes.
func (s *Store) CheckCodec(c session.Codec) error {
	if c == nil || c.Name() != "json" {
		name := "<nil>"
		if c != nil {
			name = c.Name()
		}
		return fmt.Errorf("mysql: the data column is JSON text, so the store needs the json codec, not %q: %w", name, session.ErrUnsupported)
	}
	return nil
}

// unixRound is express-mysql-session's timestamp, Math.round(ms / 1000);
// instants before 1970 are 0.
func unixRound(t time.Time) int64 {
	ms := t.UnixMilli()
	if ms <= 0 {
		return 0
	}
	return (ms + 500) / 1000
}

// seconds is the expires value for an expiry instant, kept within what the
// column holds (express-mysql-session's int unsigned ends in 2106).
func (s *Store) seconds(t time.Time) int64 { return min(unixRound(t), s.cols.expMax) }

// endOf is the last millisecond at which a row whose expires is sec is
// live: from the next one on, round(now ms / 1000) exceeds sec. It rounds
// back to sec, so a record saved with the expiry Load returned keeps its
// expires.
func endOf(sec int64) time.Time { return time.Unix(sec, 499e6) }

func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if s.closed.Load() {
		return fmt.Errorf("mysql: %s: %w: %w", op, session.ErrClosed, err)
	}
	// A *mysql.MySQLError already reads "Error 1146 (42S02): …".
	if unavailable(err) {
		return fmt.Errorf("mysql: %s: %w: %w", op, session.ErrUnavailable, err)
	}
	return fmt.Errorf("mysql: %s: %w", op, err)
}

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return fmt.Errorf("mysql: %w", session.ErrClosed)
	}
	return nil
}

// checkWrite refuses what the columns cannot hold exactly.
func (s *Store) checkWrite(id string, data []byte) error {
	if !s.cols.fitsID(id) {
		return fmt.Errorf("mysql: session %s: the ID does not fit the session_id column (%s): %w", session.LogID(id), s.cols.idLimit(), session.ErrUnsupported)
	}
	if s.cols.dataMax > 0 && int64(len(data)) > s.cols.dataMax {
		return fmt.Errorf("mysql: session %s: %d bytes of data exceed the data column's %d: %w", session.LogID(id), len(data), s.cols.dataMax, session.ErrUnsupported)
	}
	if s.cols.dataText && !utf8.Valid(data) {
		return fmt.Errorf("mysql: session %s: the data is not valid UTF-8, which the data column (text) cannot hold: %w", session.LogID(id), session.ErrUnsupported)
	}
	return nil
}

// Load returns the data of id, as stored, and the last millisecond it is
// live, when the row is live (see the package documentation). A row whose data is NULL is
// not found. The bytes are returned even when they are not a session this
// library wrote; the Manager's codec decides.
func (s *Store) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	if err := s.checkOpen(); err != nil {
		return nil, time.Time{}, false, err
	}
	if !s.cols.fitsID(id) {
		// No row can have it; a padded column would find another's.
		return nil, time.Time{}, false, ctx.Err()
	}
	var (
		data []byte
		exp  int64
	)
	err := s.stmts.load.QueryRowContext(ctx, id, unixRound(time.Now())).Scan(&data, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && data == nil) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, s.wrap("load", err)
	}
	return data, endOf(exp), true, nil
}

// Save upserts data and expiresAt in one statement.
func (s *Store) Save(ctx context.Context, id string, data []byte, expiresAt time.Time) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.checkWrite(id, data); err != nil {
		return err
	}
	_, err := s.stmts.save.ExecContext(ctx, id, s.seconds(expiresAt), text(data))
	return s.wrap("save", err)
}

// text sends data as a string parameter; a []byte would be sent as binary
// and converted, and a nil one as NULL.
func text(data []byte) string { return string(data) }

// Touch moves the expiry of a live row; a missing or expired one is left
// alone. It does not change the row's version.
func (s *Store) Touch(ctx context.Context, id string, expiresAt time.Time) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if !s.cols.fitsID(id) {
		return ctx.Err()
	}
	_, err := s.stmts.touch.ExecContext(ctx, s.seconds(expiresAt), id, unixRound(time.Now()))
	return s.wrap("touch", err)
}

// Delete removes id's row, if any.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if !s.cols.fitsID(id) {
		return ctx.Err()
	}
	_, err := s.stmts.del.ExecContext(ctx, id)
	return s.wrap("delete", err)
}

// Count returns the number of live rows.
func (s *Store) Count(ctx context.Context) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var n int64
	err := s.stmts.count.QueryRowContext(ctx, unixRound(time.Now())).Scan(&n)
	return n, s.wrap("count", err)
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.wrap("ping", s.db.PingContext(ctx))
}

// Iterate calls fn for each live row with data, in order of session_id,
// fetching pages of a few hundred rows by keyset (session_id > last), so
// neither the server nor the process holds the whole table. No connection
// is held while fn runs, so fn may use the Store.
func (s *Store) Iterate(ctx context.Context, fn func(session.Record) error) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var (
		page []session.Record
		last string
	)
	for first := true; ; first = false {
		page = page[:0]
		now := unixRound(time.Now())
		var (
			rows *sql.Rows
			err  error
		)
		if first {
			rows, err = s.stmts.iterFirst.QueryContext(ctx, now, iteratePage)
		} else {
			rows, err = s.stmts.iterNext.QueryContext(ctx, now, last, iteratePage)
		}
		if err != nil {
			return s.wrap("iterate", err)
		}
		n := 0
		for rows.Next() {
			var (
				id   []byte
				data []byte
				exp  int64
			)
			if err := rows.Scan(&id, &data, &exp); err != nil {
				rows.Close()
				return s.wrap("iterate", err)
			}
			n++
			last = string(id)
			if data != nil {
				page = append(page, session.Record{ID: last, Data: data, ExpiresAt: endOf(exp)})
			}
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
		if n < iteratePage {
			return nil
		}
	}
}

// LinkUser does nothing: the user is read from the document itself.
func (s *Store) LinkUser(ctx context.Context, user, id string, expiresAt time.Time) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return ctx.Err()
}

// UnlinkUser does nothing: the user is read from the document itself.
func (s *Store) UnlinkUser(ctx context.Context, user, id string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return ctx.Err()
}

// UserKey returns the top-level key of the document that UserSessions reads
// the user from; session.New refuses a Manager whose Config.UserKey
// differs.
func (s *Store) UserKey() string { return s.opts.UserKey }

// UserSessions returns the IDs of the live rows whose document has user as
// the text of its top-level key Options.UserKey: a string's value, or the
// JSON text of a number (42 matches "42"); a null matches nothing. Rows
// whose data is not JSON are passed over.
func (s *Store) UserSessions(ctx context.Context, user string) ([]string, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	path := s.userPath()
	rows, err := s.stmts.user.QueryContext(ctx, unixRound(time.Now()), path, path, user)
	if err != nil {
		if isJSONError(err) {
			return s.userSessionsSlow(ctx, user)
		}
		return nil, s.wrap("user sessions", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap("user sessions", err)
		}
		ids = append(ids, string(id))
	}
	if err := rows.Err(); err != nil {
		if isJSONError(err) {
			return s.userSessionsSlow(ctx, user)
		}
		return nil, s.wrap("user sessions", err)
	}
	return ids, nil
}

// userPath is the JSON path of Options.UserKey as a member name, which may
// hold any character.
func (s *Store) userPath() string {
	k := strings.ReplaceAll(s.opts.UserKey, `\`, `\\`)
	k = strings.ReplaceAll(k, `"`, `\"`)
	return `$."` + k + `"`
}

// isJSONError reports a MySQL error about a document JSON functions cannot
// read; the query guards with JSON_VALID, but a server may evaluate the
// branches of a CASE eagerly.
func isJSONError(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 3140, 3141, 3143, 3146: // ER_INVALID_JSON_TEXT, …_IN_PARAM, ER_INVALID_JSON_PATH, ER_INVALID_TYPE_FOR_JSON
		return true
	}
	return false
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
