package session

import "errors"

var (
	// ErrNotFound reports a missing value or session.
	ErrNotFound = errors.New("session: not found")
	// ErrType reports a value that cannot be read as the requested type.
	ErrType = errors.New("session: value has another type")
	// ErrReserved reports a key that express-session would drop or that
	// this library keeps for itself.
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
	// writer changed after it was loaded (see ConditionalStore). From
	// Manager.Commit it means the record kept changing under this request
	// through every retry (Config.ConflictRetries); nothing was written.
	ErrConflict = errors.New("session: record changed since it was loaded")
	// ErrEnded reports a commit that wrote nothing because another request
	// (or another application) ended the session after this request loaded
	// it: it was destroyed, revoked, renewed away or expired. The request's
	// changes are dropped and no cookie is set; the middleware treats it as
	// an outcome, not a failure, and sends the handler's response.
	ErrEnded = errors.New("session: ended by another request; changes not saved")
)
