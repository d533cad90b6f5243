package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// report prints check findings, one line each.
type report struct {
	w         io.Writer
	deviation bool
}

func (r *report) add(f session.Finding) {
	if f.Severity >= session.SeverityWarning {
		r.deviation = true
	}
	fmt.Fprintf(r.w, "%s: %s\n", f.Severity, strings.ReplaceAll(f.Message, "\n", " "))
}

func (r *report) say(sev session.Severity, format string, args ...any) {
	r.add(session.Finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// runCheck prints one line per finding and returns 1 when any is a warning
// or an error. A store that checks itself (session.Checker) says what it
// knows of its backend; any other is checked through the capabilities it
// has.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := command("check", "check URL\n\nReports, one finding a line, whether the store is reachable and laid out as\nexpected, its live and expired sessions and their expiries. It creates nothing.\nExit 0: all fine; 1: a warning or an error.", true)
	raw, err := oneURL(fs, args, stderr)
	if err != nil {
		return status(err, stderr)
	}
	r := &report{w: stdout}
	t, err := open(ctx, raw, existing)
	if err != nil {
		r.say(session.SeverityError, "cannot open the store: %v", err)
		return exitDeviation
	}
	defer t.Close()
	if c, ok := t.store.(session.Checker); ok {
		if err := c.Check(ctx, r.add); err != nil {
			r.say(session.SeverityError, "cannot check: %v", err)
		}
	} else {
		checkGeneric(ctx, r, t)
	}
	if r.deviation {
		return exitDeviation
	}
	return exitOK
}

func span(oldest, newest, t time.Time) (time.Time, time.Time) {
	if oldest.IsZero() || t.Before(oldest) {
		oldest = t
	}
	if t.After(newest) {
		newest = t
	}
	return oldest, newest
}

// checkGeneric checks a store through the capabilities it has.
func checkGeneric(ctx context.Context, r *report, t *target) {
	if p, ok := t.store.(session.Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			r.say(session.SeverityError, "ping: %v", err)
			return
		}
		r.say(session.SeverityOK, "the %s store answers", t.backend)
	}
	if c, ok := t.store.(session.Counter); ok {
		n, err := c.Count(ctx)
		if err != nil {
			r.say(session.SeverityError, "count: %v", err)
		} else {
			r.say(session.SeverityInfo, "%d live sessions", n)
		}
	}
	if it, ok := t.store.(session.Iterator); ok {
		var oldest, newest time.Time
		err := it.Iterate(ctx, func(rec session.Record) error {
			oldest, newest = span(oldest, newest, rec.ExpiresAt)
			return nil
		})
		if err != nil {
			r.say(session.SeverityError, "iterate: %v", err)
		} else if !oldest.IsZero() {
			r.say(session.SeverityInfo, "expiries from %s to %s", stamp(oldest), stamp(newest))
		}
	}
}
