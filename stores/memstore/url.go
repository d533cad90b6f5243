package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/internal/storeurl"
	"github.com/sessionkit/sessionkit/session"
)

// URLForms describes, for help texts, the URLs OpenURL takes.
const URLForms = `memory://[?prune_interval=1m]   in this process only: empty, and seen by no other process`

// OpenURL returns a new, empty Store for a memory:// URL. Its one query
// parameter, prune_interval (a duration, or "off"; default 1m), is passed to
// WithPruneInterval; any other is an error. o is what any program may ask of
// a store it opens by URL (see stores.Options): o.NoPruning disables the
// pruning goroutine. Package stores calls OpenURL for the memory scheme.
func OpenURL(ctx context.Context, rawURL string, o storeurl.Options) (*Store, error) {
	p, err := storeurl.Only("memory", rawURL, "prune_interval")
	if err != nil {
		return nil, err
	}
	d := time.Minute
	p.Duration("prune_interval", &d, 0)
	if err := p.Err(); err != nil {
		return nil, err
	}
	if o.NoPruning {
		d = 0
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return New(WithPruneInterval(d)), nil
}

// Check reports, for an operator, the live and expired records and that
// the store lives inside this process only. It implements session.Checker.
func (s *Store) Check(ctx context.Context, report func(session.Finding)) error {
	live, err := s.Count(ctx)
	if err != nil {
		return err
	}
	expired, err := s.CountExpired(ctx)
	if err != nil {
		return err
	}
	report(session.Finding{Severity: session.SeverityInfo, Message: fmt.Sprintf("%d live sessions, %d expired awaiting pruning", live, expired)})
	report(session.Finding{Severity: session.SeverityInfo, Message: "a memory store lives inside one process; no other process, a server's included, sees it"})
	return nil
}

// CountExpired returns the number of expired records not yet pruned. It
// implements session.ExpiredCounter.
func (s *Store) CountExpired(ctx context.Context) (int64, error) {
	return s.count(ctx, false)
}
