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
	// ErrKey reports a key the codec cannot keep apart from other keys,
	// such as one that is not valid UTF-8, which JSON turns into U+FFFD
	// (see codecs/jsoncodec).
	ErrKey = errors.New("session: key cannot be stored as it is")
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
	// ErrUnavailable reports a store that cannot serve now but may soon: its
	// server is shutting down, starting up, loading its data or failing
	// over, or the connection to it broke. Stores wrap it beside their
	// driver's error, so a caller can answer "try again" (the middleware's
	// 503) without knowing the driver.
	ErrUnavailable = errors.New("session: store unavailable")
)
