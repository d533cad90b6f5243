// Package boltstore is the embedded session store: one bbolt file, no server.
//
// Each record lives in a data bucket (id → expiry, checksum, data) beside an
// expiry index keyed by big-endian expiry nanoseconds followed by the id, so
// pruning reads only the expired prefix of the index, in bounded batches.
// Both are changed in the same transaction. Concurrent writes are combined
// into shared transactions by one committer goroutine (group commit), so one
// fsync serves many writers without the fixed wait of bbolt's own Batch.
//
// The Store implements session.Store and the Counter, Pruner, Iterator,
// UserIndex, Pinger, Checker, ExpiredCounter and ConditionalStore
// capabilities, and io.Closer. OpenURL opens it from a bbolt:// URL.
//
// Concurrent writes: the ConditionalStore version is the record's data as
// loaded, and Insert and Replace compare inside the group commit's write
// transaction, so no write can come between the check and the write, and
// the file format is unchanged. A Touch rewrites only the expiry and leaves
// the version alone. A refused Insert or Replace does not abort the batch it
// shares with other writers.
//
// Errors name the file and say what went wrong: a full disk, a file or
// directory that cannot be written, a file another process holds, a file that
// is not a bbolt database. A failed commit leaves everything committed before
// it intact.
//
// A damaged file never ends the process. bbolt trusts the file's pages: a
// damaged one makes it panic, fault (SIGSEGV, SIGBUS) or loop. So Open checks
// every page in use before bbolt maps the file (see CheckFile), and fails
// with ErrDamaged, or moves the file aside (Options.OnDamage). Damage that
// appears later, while the store runs, is met by a recover around every bbolt
// call, with debug.SetPanicOnFault set on the calling goroutine so that a
// fault in the mapped file becomes a panic too: the operation fails with an
// error wrapping ErrDamaged, and a write in a shared transaction is retried
// alone so that only the writes the damage touches fail.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/sessionkit/sessionkit/session"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Bucket is the prefix of the names of the buckets the store keeps:
	// Bucket+"/data", Bucket+"/expiry", Bucket+"/users" and
	// Bucket+"/userexp". Stores with different prefixes can share one file.
	// The default is "sessionkit".
	Bucket string

	// OpenTimeout bounds how long Open waits for the file lock while another
	// process holds the file; Open then fails with an error naming the file.
	// The default is 1 second; a negative value tries the lock once. New
	// ignores it.
	OpenTimeout time.Duration

	// PruneInterval is how often a background goroutine deletes expired
	// records. Each wait is drawn uniformly from 0.75 to 1.25 times the
	// interval, so processes sharing a start time do not prune in step. The
	// default is 1 minute; a negative value disables background pruning
	// (Prune can still be called).
	PruneInterval time.Duration

	// PruneBatch is the most expired records (and, separately, user links)
	// that one prune transaction deletes, so pruning never holds the write
	// lock for long. The default is 1000.
	PruneBatch int

	// Logger receives prune failures and unreadable records (never session
	// data; IDs only as a short hash). The default is slog.Default().
	Logger *slog.Logger

	// FileMode is the permission of a file that Open creates. The default
	// is 0600.
	FileMode os.FileMode

	// Verify makes Open also run bbolt's own consistency check after the
	// check Open always makes (see Open), which adds what that one leaves
	// out: pages neither in use nor free, and meta pages of which only one
	// is valid. The default is false.
	Verify bool

	// OnDamage is what Open does with a damaged file. The default,
	// DamageFail, makes Open fail.
	OnDamage DamageAction

	// NoCreate makes Open and New fail, naming the file, when the file or
	// the store's data and expiry buckets do not exist, rather than create
	// them (the user index's buckets are still added to an older file):
	// for tools that inspect a store an application owns, where a mistyped
	// path or bucket must not make a new, empty store. The default is false.
	NoCreate bool

	// Bolt passes further options to bbolt.Open; its Timeout is replaced by
	// OpenTimeout. Nil means bbolt's defaults. New ignores it.
	Bolt *bbolt.Options
}

const (
	defaultBucket        = "sessionkit"
	defaultOpenTimeout   = time.Second
	defaultPruneInterval = time.Minute
	defaultPruneBatch    = 1000

	// header is the record prefix: expiry nanos (8) and CRC-32C of data (4).
	header = 12
	// maxKey leaves room for the 8-byte expiry in index keys.
	maxKey = bbolt.MaxKeySize - 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrDamaged is wrapped by the errors of Open and of operations that met a
// damaged file: pages that do not form a valid bbolt file, or a fault or
// panic inside bbolt while reading them.
var ErrDamaged = errors.New("damaged file")

// Store is a session.Store on a bbolt file. It is safe for concurrent use.
type Store struct {
	db    *bbolt.DB
	own   bool
	path  string
	log   *slog.Logger
	batch int

	data, exp, users, userexp []byte

	closed atomic.Bool
	warned atomic.Bool // the damage of the file is logged

	mu    sync.Mutex // guards queue and shut
	queue []*op
	shut  bool
	wake  chan struct{}

	// taken counts ops the committer took off the queue; commits and
	// committed count transactions and the ops they carried. For tests and
	// benchmarks.
	taken, commits, committed atomic.Int64
	// claimed, when set by a test, runs after the committer claims a batch.
	claimed func()

	committerDone chan struct{}
	pruneCancel   context.CancelFunc
	pruneDone     chan struct{}
	// begins counts the goroutines of beginCtx, which Close waits for.
	begins sync.WaitGroup
}

// DamageAction is what Open does with a damaged file.
type DamageAction uint8

const (
	// DamageFail makes Open fail with an error wrapping ErrDamaged.
	DamageFail DamageAction = iota
	// DamageReset moves the damaged file aside, renamed with
	// ".damaged-<UTC time>" appended, logs both names, and opens a new empty
	// file in its place: every session in it is lost, which suits sessions
	// that are disposable. A file that does not look like a bbolt file at
	// all (say, a path pointing at some other file) is never moved; Open
	// fails instead.
	DamageReset
)

// Open opens (creating if needed) the bbolt file at path and returns a Store
// that owns it: Close closes the file. A file locked by another process makes
// Open fail after Options.OpenTimeout.
//
// Before bbolt maps the file, Open checks it as CheckFile does, holding the
// file's lock: a damaged file makes Open fail with an error naming the file
// and wrapping ErrDamaged, or, with Options.OnDamage set to DamageReset, is
// moved aside. The check reads every page in use once, so it costs time in
// proportion to the file's size (see BENCHMARKS.md).
func Open(path string, opts Options) (st *Store, err error) {
	if opts.NoCreate {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("bbolt: open %s: %w", path, err)
		}
	}
	bo := bbolt.Options{}
	if opts.Bolt != nil {
		bo = *opts.Bolt
	}
	switch {
	case opts.OpenTimeout == 0:
		bo.Timeout = defaultOpenTimeout
	case opts.OpenTimeout < 0:
		bo.Timeout = time.Nanosecond
	default:
		bo.Timeout = opts.OpenTimeout
	}
	mode := opts.FileMode
	if mode == 0 {
		mode = 0o600
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := prepare(path, bo.ReadOnly, bo.Timeout, opts.OnDamage, log); err != nil {
		return nil, err
	}
	// Should bbolt still panic or fault while opening (the file changed
	// since the check), keep the file handle so that the recovered Open can
	// release the file and its lock.
	var file *os.File
	openFile := bo.OpenFile
	if openFile == nil {
		openFile = os.OpenFile
	}
	bo.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := openFile(name, flag, perm)
		file = f
		return f, err
	}
	var db *bbolt.DB
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			} else if file != nil {
				_ = file.Close()
			}
			st, err = nil, fmt.Errorf("bbolt: open %s: %w (%s)", path, ErrDamaged, panicText(r))
		}
	}()
	db, err = bbolt.Open(path, mode, &bo)
	if err != nil {
		return nil, openError(path, bo.Timeout, err)
	}
	if opts.Verify {
		err = db.View(check)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("bbolt: open %s: %w: %w", path, ErrDamaged, err)
		}
	}
	st, err = newStore(db, true, opts)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return st, nil
}

// prepare checks the file at path, if there is one, before bbolt maps it,
// holding the lock bbolt takes, and moves a damaged file aside when asked.
func prepare(path string, readOnly bool, timeout time.Duration, action DamageAction, log *slog.Logger) error {
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil // a missing file is created, and bbolt explains the rest
	}
	defer f.Close()
	if err := lockFile(f, !readOnly, timeout); err != nil {
		return openError(path, timeout, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("bbolt: open %s: %w", path, err)
	}
	damage := checkFile(f, fi.Size())
	switch {
	case damage == nil:
		return nil
	case !errors.Is(damage, ErrDamaged):
		return fmt.Errorf("bbolt: open %s: %w", path, damage)
	case action != DamageReset || readOnly:
		return fmt.Errorf("bbolt: open %s: %w", path, damage)
	case !looksLikeBolt(f, fi.Size()):
		return fmt.Errorf("bbolt: open %s: not moved aside, as it does not look like a bbolt file: %w", path, damage)
	}
	aside := path + ".damaged-" + time.Now().UTC().Format("20060102T150405.000Z")
	if _, err := os.Lstat(aside); err == nil {
		return fmt.Errorf("bbolt: open %s: %w; %s exists, not moving it aside", path, damage, aside)
	}
	if err := os.Rename(path, aside); err != nil {
		return fmt.Errorf("bbolt: open %s: %w; moving it aside: %w", path, damage, err)
	}
	log.Error("bbolt: damaged file moved aside, starting with an empty one",
		"file", path, "moved_to", aside, "damage", damage.Error())
	return nil
}

// New returns a Store on db, which the caller opened and keeps owning: Close
// stops the store's goroutines but leaves db open. bbolt has mapped db's
// file already, so New cannot check it as Open does: call CheckFile before
// bbolt.Open on a file you do not trust. It creates the store's
// buckets if they are missing, so db must be writable.
func New(db *bbolt.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("bbolt: New: nil *bbolt.DB")
	}
	return newStore(db, false, opts)
}

func newStore(db *bbolt.DB, own bool, opts Options) (*Store, error) {
	prefix := opts.Bucket
	if prefix == "" {
		prefix = defaultBucket
	}
	s := &Store{
		db:            db,
		own:           own,
		path:          db.Path(),
		log:           opts.Logger,
		batch:         opts.PruneBatch,
		data:          []byte(prefix + "/data"),
		exp:           []byte(prefix + "/expiry"),
		users:         []byte(prefix + "/users"),
		userexp:       []byte(prefix + "/userexp"),
		wake:          make(chan struct{}, 1),
		committerDone: make(chan struct{}),
		pruneDone:     make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.batch <= 0 {
		s.batch = defaultPruneBatch
	}
	if opts.NoCreate {
		// A file without the buckets is another application's, or the
		// bucket prefix is wrong.
		err := s.view("open", func(tx *bbolt.Tx) error {
			for _, name := range [][]byte{s.data, s.exp} {
				if tx.Bucket(name) == nil {
					return fmt.Errorf("bbolt: %s holds no sessions under bucket %q (another application's file, or a different bucket?): bucket %q is missing", s.path, prefix, name)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err := s.update(context.Background(), "create buckets", func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{s.data, s.exp, s.users, s.userexp} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("bucket %q: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.fail("create buckets", err)
	}
	go s.commitLoop()
	interval := opts.PruneInterval
	if interval == 0 {
		interval = defaultPruneInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.pruneCancel = cancel
	if interval > 0 {
		go s.pruneLoop(ctx, interval)
	} else {
		close(s.pruneDone)
	}
	return s, nil
}

// check runs bbolt's consistency check in tx and returns its first error,
// with keys left out of it (they are session IDs). It drains the channel:
// the checking goroutine reads tx's pages until it ends, so tx must outlive
// it. bbolt checks in a goroutine of its own, where a fault would end the
// process: only run it on a file that checkFile passed.
func check(tx *bbolt.Tx) error {
	var first error
	for err := range tx.Check(bbolt.WithKVStringer(redacted{})) {
		if first == nil {
			first = err
		}
	}
	return first
}

// redacted prints no key or value in bbolt's check messages.
type redacted struct{}

func (redacted) KeyToString([]byte) string   { return "…" }
func (redacted) ValueToString([]byte) string { return "…" }

// openError explains why bbolt.Open failed, naming the file.
func openError(path string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("bbolt: open %s: file is locked by another process (waited %v): %w", path, timeout, err)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
		return fmt.Errorf("bbolt: open %s: not a bbolt file or damaged: %w: %w", path, ErrDamaged, err)
	case errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return fmt.Errorf("bbolt: open %s: file or directory is not writable: %w", path, err)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("bbolt: open %s: disk full: %w", path, err)
	}
	return fmt.Errorf("bbolt: open %s: %w", path, err)
}

// fail wraps a bbolt error with the file name and what was being done.
func (s *Store) fail(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrDamaged):
		return err
	case errors.Is(err, berrors.ErrDatabaseNotOpen), errors.Is(err, session.ErrClosed):
		return session.ErrClosed
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("bbolt %s: %s: disk full: %w", s.path, what, err)
	case errors.Is(err, berrors.ErrMaxSizeReached):
		return fmt.Errorf("bbolt %s: %s: file reached its maximum size: %w", s.path, what, err)
	case errors.Is(err, berrors.ErrDatabaseReadOnly), errors.Is(err, syscall.EROFS),
		errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EBADF):
		return fmt.Errorf("bbolt %s: %s: file is not writable: %w", s.path, what, err)
	}
	return fmt.Errorf("bbolt %s: %s: %w", s.path, what, err)
}

// check reports a closed store or a done context before any work.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return session.ErrClosed
	}
	return ctx.Err()
}

// Load returns a copy of the data stored under id and its expiry. Missing,
// expired and damaged records (checksum mismatch) are reported as not found.
func (s *Store) Load(ctx context.Context, id string) (_ []byte, _ time.Time, _ bool, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.guard("load", &err)
	if err := s.check(ctx); err != nil {
		return nil, time.Time{}, false, err
	}
	if id == "" || len(id) > maxKey {
		return nil, time.Time{}, false, nil
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, time.Time{}, false, s.fail("load", err)
	}
	defer func() { _ = tx.Rollback() }()
	b := tx.Bucket(s.data)
	if b == nil {
		return nil, time.Time{}, false, s.fail("load", errMissing(s.data))
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, time.Time{}, false, nil
	}
	exp, data, ok := decode(v)
	if !ok {
		s.log.Warn("bbolt: unreadable session record", "file", s.path, "session", session.LogID(id))
		return nil, time.Time{}, false, nil
	}
	if exp <= uint64(time.Now().UnixNano()) {
		return nil, time.Time{}, false, nil
	}
	// bbolt's memory is valid only until the transaction ends.
	return append([]byte(nil), data...), time.Unix(0, int64(exp)), true, nil
}

// Save stores data and expiresAt under id, replacing any earlier record.
// The ID must be 1 to 32760 bytes long.
func (s *Store) Save(ctx context.Context, id string, data []byte, expiresAt time.Time) error {
	if err := checkID(id); err != nil {
		return err
	}
	if len(data) > bbolt.MaxValueSize-header {
		return fmt.Errorf("bbolt: session data too large (%d bytes)", len(data))
	}
	// One allocation holds the index key, the data key and the value:
	// exp | id | exp | crc | data.
	buf := make([]byte, 8+len(id)+header+len(data))
	putRecord(buf, id, data, expiresAt)
	return s.submit(ctx, opSave, buf, len(id))
}

// putRecord fills buf, sized 8+len(id)+header+len(data), with
// exp | id | exp | crc | data.
func putRecord(buf []byte, id string, data []byte, expiresAt time.Time) {
	n, e := len(id), nanos(expiresAt)
	binary.BigEndian.PutUint64(buf, e)
	copy(buf[8:], id)
	binary.BigEndian.PutUint64(buf[8+n:], e)
	binary.BigEndian.PutUint32(buf[16+n:], crc32.Checksum(data, castagnoli))
	copy(buf[8+n+header:], data)
}

// Touch moves the expiry of a live record to expiresAt without changing its
// data. A missing or expired record is left alone.
func (s *Store) Touch(ctx context.Context, id string, expiresAt time.Time) error {
	if err := checkID(id); err != nil {
		return err
	}
	buf := make([]byte, 8+len(id))
	binary.BigEndian.PutUint64(buf, nanos(expiresAt))
	copy(buf[8:], id)
	return s.submit(ctx, opTouch, buf, len(id))
}

// Delete removes the record under id; a missing record is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if id == "" || len(id) > maxKey {
		return s.check(ctx)
	}
	return s.submit(ctx, opDelete, []byte(id), len(id))
}

// Ping checks that the store is open and its buckets are readable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.fail("ping", s.view("ping", func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{s.data, s.exp, s.users, s.userexp} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("bucket %q is missing", name)
			}
		}
		return nil
	}))
}

// Close stops the committer and prune goroutines, after the writes already
// queued are committed, waits for a write that its context cut short to
// release the file's write lock, and closes the file when Open opened it.
// Calls after the first return session.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.shut {
		s.mu.Unlock()
		return session.ErrClosed
	}
	s.shut = true
	s.closed.Store(true)
	s.mu.Unlock()
	s.pruneCancel()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-s.pruneDone
	<-s.committerDone
	s.begins.Wait()
	if s.own {
		if err := s.closeDB(); err != nil {
			return fmt.Errorf("bbolt %s: close: %w", s.path, err)
		}
	}
	return nil
}

// closeDB closes the file, guarded: closing unmaps it.
func (s *Store) closeDB() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.guard("close", &err)
	return s.db.Close()
}

// decode splits a stored record, reporting false when it is damaged.
func decode(v []byte) (exp uint64, data []byte, ok bool) {
	if len(v) < header {
		return 0, nil, false
	}
	data = v[header:]
	if crc32.Checksum(data, castagnoli) != binary.BigEndian.Uint32(v[8:header]) {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(v), data, true
}

func checkID(id string) error {
	if id == "" {
		return errors.New("bbolt: empty session id")
	}
	if len(id) > maxKey {
		return fmt.Errorf("bbolt: session id too long (%d bytes, at most %d)", len(id), maxKey)
	}
	return nil
}

// nanos encodes t as index-ordered nanoseconds, clamping instants before
// 1970 (already expired) and after 2262 (never expire).
func nanos(t time.Time) uint64 {
	sec := t.Unix()
	switch {
	case sec < 0:
		return 0
	case sec >= math.MaxInt64/int64(time.Second)-1:
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

var (
	_ session.Store          = (*Store)(nil)
	_ session.Counter        = (*Store)(nil)
	_ session.Pruner         = (*Store)(nil)
	_ session.Checker        = (*Store)(nil)
	_ session.ExpiredCounter = (*Store)(nil)
	_ session.Iterator       = (*Store)(nil)
	_ session.UserIndex      = (*Store)(nil)
	_ session.Pinger         = (*Store)(nil)
	_ io.Closer              = (*Store)(nil)
)

// Path returns the name of the bbolt file the store keeps its records in.
func (s *Store) Path() string { return s.path }
