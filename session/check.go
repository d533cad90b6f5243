package session

import (
	"context"
	"strconv"
)

// Severity ranks a Finding.
type Severity int

// Severities, from least to most serious.
const (
	// SeverityOK marks something checked and found as expected.
	SeverityOK Severity = iota
	// SeverityInfo marks a fact worth knowing that needs no action.
	SeverityInfo
	// SeverityWarning marks a deviation that works but costs performance,
	// compatibility or sessions (an eviction policy that drops them).
	SeverityWarning
	// SeverityError marks a deviation that makes sessions fail to load or
	// save.
	SeverityError
)

// String returns "ok", "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case SeverityOK:
		return "ok"
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// Finding is one line of an operator check.
type Finding struct {
	Severity Severity
	Message  string
}

// String returns the finding as "severity: message".
func (f Finding) String() string { return f.Severity.String() + ": " + f.Message }

// Checker is implemented by stores that can examine their backend for an
// operator (sessionctl check): that it answers, that its layout is what the
// store expects, how many sessions it holds and anything that deviates.
// Check calls report once per finding, in an order meant to be read top
// down, and returns an error only when the backend could not be examined at
// all; that error is not also reported as a finding. A check may read every
// record, so it is not a health probe (see Pinger).
type Checker interface {
	Check(ctx context.Context, report func(Finding)) error
}

// ExpiredCounter is implemented by stores that can count the expired records
// still awaiting pruning without reading the live ones (an index range), so
// that a long prune can show its progress.
type ExpiredCounter interface {
	CountExpired(ctx context.Context) (int64, error)
}
