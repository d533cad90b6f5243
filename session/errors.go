package session

import "errors"

var (
	// ErrNotFound reports a missing value or session.
	ErrNotFound = errors.New("session: not found")
	// ErrType reports a value that cannot be read as the requested type.
	ErrType = errors.New("session: value has another type")
	// ErrReserved reports a key the codec's format reserves (see
	// KeyChecker; express-session drops some), or the empty key.
	ErrReserved = errors.New("session: reserved key")
	// ErrCommitted reports a change made after the session was committed
	// (after the response's first byte); the change is not saved.
	ErrCommitted = errors.New("session: changed after commit")
	// ErrDestroyed reports use of a session after Destroy.
	ErrDestroyed = errors.New("session: destroyed")
	// ErrUnsupported reports an operation the store does not offer.
	ErrUnsupported = errors.New("session: unsupported by store")
	// ErrClosed reports use of a closed store.
	ErrClosed = errors.New("session: store closed")
	// ErrConflict reports a conditional save against a record that another
	// writer changed after it was loaded (see ConditionalStore).
	ErrConflict = errors.New("session: record changed since it was loaded")
)
