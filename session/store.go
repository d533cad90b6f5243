package session

import (
	"context"
	"time"
)

// Store persists opaque session records under an ID with an absolute expiry
// instant. A Store decides no policy: timeouts, dirty tracking, rotation and
// revocation live in the Manager. Every method takes a context and must return
// promptly with the context's error once it is done.
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
// Touch moves the expiry of an existing record without rewriting its data.
// Touching a missing record is not an error and creates nothing.
//
// Delete removes a record. Deleting a missing record is not an error.
//
// A Store must be safe for concurrent use. The data slice passed to Save is
// not retained by the caller and may be kept; the slice returned by Load
// belongs to the caller.
type Store interface {
	Load(ctx context.Context, id string) (data []byte, expiresAt time.Time, found bool, err error)
	Save(ctx context.Context, id string, data []byte, expiresAt time.Time) error
	Touch(ctx context.Context, id string, expiresAt time.Time) error
	Delete(ctx context.Context, id string) error
}

// Counter is implemented by stores that can count their live (unexpired)
// records.
type Counter interface {
	Count(ctx context.Context) (int64, error)
}

// Pruner is implemented by stores that can delete expired records on demand.
// Prune deletes in bounded batches and returns how many records it removed.
// Stores whose backend expires records by itself (Redis) need not implement it.
type Pruner interface {
	Prune(ctx context.Context) (int64, error)
}

// Record is one stored session as an Iterator yields it.
type Record struct {
	ID        string
	Data      []byte
	ExpiresAt time.Time
}

// Iterator is implemented by stores that can stream their live records.
// Iterate calls fn for each live record, in no particular order, until fn
// returns an error (which Iterate then returns) or the records are exhausted.
// The Record's Data is only valid during the call to fn unless copied.
// Records written during the iteration may or may not be seen.
type Iterator interface {
	Iterate(ctx context.Context, fn func(Record) error) error
}

// UserIndex is implemented by stores that can find the sessions of a user,
// for "log out everywhere".
//
// The Manager calls LinkUser after it saves a session that carries a user,
// and UnlinkUser when the session is destroyed, renewed or changes user.
// UserSessions returns the IDs linked to user; it may return IDs that have
// since expired, been deleted or changed user (the Manager checks each one
// before acting), but it must not omit a live linked session. A store that
// derives the user from the stored data itself may treat LinkUser and
// UnlinkUser as no-ops. Links must not outlive their sessions without bound.
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
