package session

import "time"

// Op names a store operation in metrics.
type Op string

// The store operations the Manager reports to Metrics.
const (
	OpLoad   Op = "load"
	OpSave   Op = "save"
	OpTouch  Op = "touch"
	OpDelete Op = "delete"
	OpCount  Op = "count"
	OpPrune  Op = "prune"
	OpUsers  Op = "users"
)

// Event names something that happened to a session, for metrics.
type Event string

// The session events the Manager reports to Metrics.
const (
	// EventCreated: a new session was saved for the first time.
	EventCreated Event = "created"
	// EventDestroyed: a session was destroyed by the application.
	EventDestroyed Event = "destroyed"
	// EventRenewed: a session's ID was rotated.
	EventRenewed Event = "renewed"
	// EventAbsoluteExpired: a session was found past its absolute deadline.
	EventAbsoluteExpired Event = "absolute_expired"
	// EventUndecodable: a stored record could not be decoded and was
	// treated as missing.
	EventUndecodable Event = "undecodable"
	// EventLateChange: a change was made after the session was committed
	// and was not saved.
	EventLateChange Event = "late_change"
	// EventPruned: expired sessions were removed; see Metrics.Pruned.
	EventPruned Event = "pruned"
	// EventEnded: a commit wrote nothing because the session had been
	// ended by another request since it was loaded (see ErrEnded).
	EventEnded Event = "ended_before_commit"
	// EventConflict: a conditional save found the record changed by
	// another writer; the Manager reloaded it, re-applied the request's
	// changes and tried again.
	EventConflict Event = "conflict"
)

// Metrics receives the Manager's measurements. Implementations must be safe
// for concurrent use and fast: they are called on the request path. No
// session data or ID is ever passed.
type Metrics interface {
	// StoreCall reports one store operation, its duration and its error
	// (nil on success).
	StoreCall(op Op, d time.Duration, err error)
	// SessionEvent reports an event; n is how many sessions it concerned.
	SessionEvent(e Event, n int64)
}

type nopMetrics struct{}

func (nopMetrics) StoreCall(Op, time.Duration, error) {}
func (nopMetrics) SessionEvent(Event, int64)          {}
