package session

import (
	"context"
	"time"
)

// Store persists opaque session records under an ID with an absolute expiry
// instant. A Store decides no policy: timeouts, dirty tracking, rotation and
// revocation live in the Manager. The conformance package checks every
// promise below; this comment is the contract, and the suite holds nothing
// it does not say.
//
// Load returns the record's data and its current expiry instant (as last set
// by Save or Touch, to within the store's granularity; the Manager needs it to
// throttle touches without a second round trip). A missing, expired or
// unreadable record is found == false with a nil error; err is for system
// failures only (a lost connection, a closed store, a cancelled context).
//
// Save writes data and expiresAt together, replacing any earlier record.
// A record whose expiresAt is not in the future must not be returned by Load.
//
// Touch moves the expiry of a live record without rewriting its data; it may
// shorten it as well as extend it. Touching a missing or expired record is
// not an error and changes nothing: Touch never creates a record and never
// brings an expired one back (a backend that keeps expired rows until they
// are pruned must check the old expiry in the same statement). Touch must be
// one atomic step on the backend (an UPDATE of the expiry column, a
// PEXPIREAT, a move in an index): done as a read and then a write, it would
// write old data over a Save that ran in between, and bring back a record
// that a concurrent Delete (a logout) removed.
//
// Delete removes a record. Deleting a missing record is not an error.
//
// # Expiry granularity
//
// A store may keep expiry more coarsely than the instant it is given, such
// as in whole seconds, as connect-pg-simple's timestamp column does. It then
// rounds the instant up to its unit, never down, and compares with the
// current time rounded up the same way: a record is live while its rounded
// expiry is not before the rounded current time. So a record stays loadable
// for less than one unit past its expiry instant, never longer, and a record
// is never lost early; "not in the future" above is read on the rounded
// values. Load, and Iterate, report the rounded expiry. The store's
// documentation states the unit, and its conformance test passes it as
// conformance.Harness.ExpiryGranularity.
//
// # Contexts, concurrency and ownership
//
// Every method takes a context and returns promptly with an error wrapping
// the context's error once it is done: before the call (the call then
// changes nothing) and also while the call waits on its backend (a lock, a
// pool, a reply), in which case a write the backend already received may or
// may not take effect. A Store must be safe for concurrent use. The data
// slice passed to Save is not retained by the caller and may be kept; the
// slice returned by Load belongs to the caller, who may change it.
//
// # Close
//
// A store that holds resources implements io.Closer. Close releases what the
// store opened itself (connections, files, goroutines, which it waits for),
// never what the caller passed in (a pool, a client, an open database), and
// deletes no record. It may be called more than once. After Close every
// method returns an error (session.ErrClosed is recommended) without
// panicking or blocking; a call in flight when Close is called either
// completes or returns an error.
type Store interface {
	Load(ctx context.Context, id string) (data []byte, expiresAt time.Time, found bool, err error)
	Save(ctx context.Context, id string, data []byte, expiresAt time.Time) error
	Touch(ctx context.Context, id string, expiresAt time.Time) error
	Delete(ctx context.Context, id string) error
}

// Counter is implemented by stores that can count their live (unexpired)
// records. Entries of a user index are not records and are not counted.
type Counter interface {
	Count(ctx context.Context) (int64, error)
}

// Pruner is implemented by stores that can delete expired records on demand.
// One Prune call removes every record that had expired when it began, in as
// many bounded batches as that takes (each its own short transaction, so
// that live requests are never stalled behind one huge delete), and returns
// how many records it removed. It never removes a record whose expiry has not
// passed, not even one expiring in the next instant. It may also remove the
// user links of sessions that are gone. Stores whose backend expires records
// by itself (Redis) need not implement it.
type Pruner interface {
	Prune(ctx context.Context) (int64, error)
}

// Record is one stored session as an Iterator yields it.
type Record struct {
	ID        string
	Data      []byte
	ExpiresAt time.Time
}

// Iterator is implemented by stores that can stream their live records, a
// page at a time rather than all at once.
//
// Iterate calls fn for each live record, in no particular order, until fn
// returns an error (which Iterate then returns as is, calling fn no more) or
// the records are exhausted. Every record that is live for the whole
// iteration is yielded, however many pages that takes. Each is yielded once;
// a store whose backend cursor may repeat an entry (Redis SCAN while the
// keyspace is resized) may yield one twice, and says so in its
// documentation. Records written, deleted or expiring during the iteration
// may or may not be seen. Entries of a user index are not records and are
// not yielded.
//
// fn runs with no lock or transaction held that another call of the store
// needs, so fn may call the store, including Save or Delete of the record it
// was given (sessionctl's migrate and revoke --scan do); a store that pages
// by offset would then skip records, so page by key. fn may keep Record.Data:
// the store does not reuse it.
type Iterator interface {
	Iterate(ctx context.Context, fn func(Record) error) error
}

// UserIndex is implemented by stores that can find the sessions of a user,
// for "log out everywhere".
//
// The Manager calls LinkUser(user, id, expiresAt) after every Save of a
// session that carries a user, with that save's expiry; after every Touch
// of one, with the new expiry (so a store may let a link lapse at the expiry
// it was last given); and after it loads a session that carries a user but
// was written by another application (one with no creation time, such as an
// Express app, which keeps no index), with the loaded expiry. It calls
// UnlinkUser when a session is destroyed or renewed, when it is saved with
// another user or none, and when UserSessions returned an ID whose session
// is gone or belongs to someone else. A failed LinkUser or UnlinkUser is
// logged and does not fail the request.
//
// UserSessions returns the IDs linked to user. It must not omit a live
// session linked with an expiry still ahead and not unlinked since, whatever
// other sessions were linked after it, with shorter lifetimes or longer. It
// may return IDs that have since expired, been deleted or changed user (the
// Manager checks each one before acting), but not without bound: once every
// expiry passed to LinkUser for that user has passed (and, for a Pruner, a
// Prune has run since), it returns none of them. A per-user set whose expiry
// only ever moves later (PEXPIREAT GT) meets this; one whose expiry each
// LinkUser sets, or only the first, does not. Links persist as the records
// do: a reopened store still has them. A store that derives the user from
// the stored data itself may treat LinkUser and UnlinkUser as no-ops.
type UserIndex interface {
	LinkUser(ctx context.Context, user, id string, expiresAt time.Time) error
	UnlinkUser(ctx context.Context, user, id string) error
	UserSessions(ctx context.Context, user string) ([]string, error)
}

// UserKeyer is implemented by a UserIndex store that reads a session's user
// from the stored document itself, under a fixed top-level key. The Manager
// refuses a Config.UserKey that differs, since every per-user lookup would
// silently find nothing.
type UserKeyer interface {
	UserKey() string
}

// Pinger is implemented by stores that can check their backend's health.
type Pinger interface {
	Ping(ctx context.Context) error
}

// CodecChecker is implemented by stores that accept only some payloads (a
// PostgreSQL json column accepts only JSON). CheckCodec returns a descriptive
// error when the store cannot hold what codec writes; the Manager calls it once
// at construction.
type CodecChecker interface {
	CheckCodec(codec Codec) error
}

// ConditionalStore is implemented by stores that can save against what Load
// returned, so that concurrent requests of one session merge their changes
// instead of overwriting each other, and an ended session is never written
// again. The Manager discovers it once, in New, and then uses LoadVersion in
// place of Load, Insert for a new session and Replace for a loaded one; a
// store without it is saved with plain Saves (the last writer wins, and a
// request in flight can write back a session that was destroyed or revoked).
// Each method costs one round trip, like the call it replaces, and the
// conformance suite checks all of it (conformance/conditional/…).
//
// LoadVersion is Load that also returns an opaque token naming the state of
// the record it read: a row version, a counter, a hash of the data or the
// data itself. Two tokens equal byte for byte must name the same state. The
// caller never changes the token (it may share memory with data) and passes
// it back to Replace unchanged. It must cost what Load costs: one round
// trip. A missing record returns found == false and a nil token.
//
// Insert writes a new record under id only when no live record has that id;
// an expired record not yet removed counts as absent and is overwritten. It
// reports inserted == false, with a nil error, when a live one exists, and
// then writes nothing.
//
// Replace writes data and expiresAt over the live record under id only while
// its token is still version, atomically: of several Replaces racing with
// one token, at most one succeeds. It returns nil when it wrote, an error
// wrapping ErrConflict when the record has changed since it was loaded (by
// any writer, a Node app's included), and one wrapping ErrNotFound when no
// live record has the id (deleted, expired or never there); in both cases it
// writes nothing. Every write of new data (Save, Insert, Replace, another
// application's write) must make earlier tokens stale; rewriting identical
// bytes may leave the token unchanged. Whether a Touch changes the token is
// the store's to say in its documentation; the Manager handles either (a
// token changed by a touch costs the request that loaded before it one
// reload and retry). The Manager always passes an expiresAt in the future.
type ConditionalStore interface {
	Store
	LoadVersion(ctx context.Context, id string) (data []byte, expiresAt time.Time, version []byte, found bool, err error)
	Insert(ctx context.Context, id string, data []byte, expiresAt time.Time) (inserted bool, err error)
	Replace(ctx context.Context, id string, data []byte, expiresAt time.Time, version []byte) error
}

// StaleError is what a ConditionalStore's Replace may return, in place of a
// plain error wrapping ErrConflict, when it read the current record while
// refusing the write (a store that must query again to tell a conflict from
// a missing record can read the record itself). It wraps ErrConflict. The
// Manager then uses it as its reload, so the conflict costs no further round
// trip. Data, ExpiresAt and Version are what LoadVersion would have returned.
type StaleError struct {
	Data      []byte
	ExpiresAt time.Time
	Version   []byte
}

func (e *StaleError) Error() string { return ErrConflict.Error() }

// Unwrap returns ErrConflict.
func (e *StaleError) Unwrap() error { return ErrConflict }
