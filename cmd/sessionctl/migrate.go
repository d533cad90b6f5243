package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
)

// expirySlack is how far two expiries of one session may differ between
// stores and still be the same: PostgreSQL keeps whole seconds, rounded up.
const expirySlack = time.Second

// migration copies the live sessions of one store into another.
type migration struct {
	src      session.Iterator
	dst      session.Store
	users    session.UserIndex // nil when the destination has no user index
	userKey  string
	force    bool
	workers  int
	progress io.Writer

	seen, copied, present, expired, noExpiry, linked atomic.Int64
	verified, missing, differ                        atomic.Int64
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := command("migrate", "migrate --from URL --to URL [--workers N] [--force] [--user-key KEY] [--no-verify]\n\nCopies every live session with its expiry, links users in the destination's\nindex, then verifies every record. Run it again to resume.", true)
	from := fs.String("from", "", "source store URL (required)")
	to := fs.String("to", "", "destination store URL (required)")
	workers := fs.Int("workers", 8, "sessions copied concurrently")
	force := fs.Bool("force", false, "rewrite sessions the destination already holds with the same data and expiry")
	userKey := fs.String("user-key", "user_id", `top-level JSON key holding the user, linked in the destination's user index ("" to skip)`)
	noVerify := fs.Bool("no-verify", false, "skip the verification pass")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return status(err, stderr)
	}
	switch {
	case len(pos) > 0:
		return status(usagef("migrate takes --from and --to, not arguments %q", pos), stderr)
	case *from == "" || *to == "":
		return status(usagef("migrate needs --from URL and --to URL"), stderr)
	case *workers < 1:
		return status(usagef("--workers must be at least 1"), stderr)
	case stores.Same(*from, *to):
		return status(usagef("--from and --to name the same store"), stderr)
	}

	src, err := open(ctx, *from, stores.Options{NoCreate: true, Conns: 2})
	if err != nil {
		return status(fmt.Errorf("source: %w", err), stderr)
	}
	defer src.Close()
	dst, err := open(ctx, *to, stores.Options{Conns: *workers})
	if err != nil {
		return status(fmt.Errorf("destination: %w", err), stderr)
	}
	defer dst.Close()
	it, ok := src.store.(session.Iterator)
	if !ok {
		return status(fmt.Errorf("the %s source cannot list its sessions (no Iterator)", src.backend), stderr)
	}
	m := &migration{src: it, dst: dst.store, userKey: *userKey, force: *force, workers: *workers, progress: stderr}
	if ui, ok := dst.store.(session.UserIndex); ok && *userKey != "" {
		m.users = ui
	}
	var total int64
	if c, ok := src.store.(session.Counter); ok {
		if total, err = c.Count(ctx); err != nil {
			return status(fmt.Errorf("source: count: %w", err), stderr)
		}
	}
	fmt.Fprintf(stdout, "migrating %d sessions from %s to %s\n", total, stores.Redact(*from), stores.Redact(*to))

	start := time.Now()
	foreign := skipped(src.store)
	if err := m.pass(ctx, "copying", total, m.copyOne); err != nil {
		fmt.Fprintf(stdout, "copied %d before the error; run the same command again to resume\n", m.copied.Load())
		return status(err, stderr)
	}
	fmt.Fprintf(stdout, "copied %d, already present %d, expired meanwhile %d, user links %d, in %v\n",
		m.copied.Load(), m.present.Load(), m.expired.Load(), m.linked.Load(), time.Since(start).Round(time.Millisecond))
	foreign(stdout)
	code := exitOK
	if n := m.noExpiry.Load(); n > 0 {
		fmt.Fprintf(stdout, "warning: %d source sessions have no expiry and were not copied\n", n)
	}
	if *noVerify {
		return code
	}
	vstart := time.Now()
	m.seen.Store(0)
	if err := m.pass(ctx, "verifying", total, m.verifyOne); err != nil {
		return status(fmt.Errorf("verify: %w", err), stderr)
	}
	live := m.verified.Load() + m.missing.Load() + m.differ.Load()
	fmt.Fprintf(stdout, "verified %d of %d live source sessions at the destination with the same data and expiry, in %v\n",
		m.verified.Load(), live, time.Since(vstart).Round(time.Millisecond))
	if n := m.missing.Load() + m.differ.Load(); n > 0 {
		fmt.Fprintf(stdout, "error: %d missing and %d different at the destination (changed by a running app?); run migrate again\n",
			m.missing.Load(), m.differ.Load())
		code = exitDeviation
	}
	return code
}

// pass streams the source's records to m.workers goroutines running fn.
func (m *migration) pass(ctx context.Context, what string, total int64, fn func(context.Context, session.Record) error) error {
	bar := newProgress(m.progress, what, total)
	g, ctx := errgroup.WithContext(ctx)
	recs := make(chan session.Record, 4*m.workers)
	g.Go(func() error {
		defer close(recs)
		return m.src.Iterate(ctx, func(r session.Record) error {
			// Data is only valid during the call.
			r.Data = bytes.Clone(r.Data)
			select {
			case recs <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
	for range m.workers {
		g.Go(func() error {
			for r := range recs {
				if err := fn(ctx, r); err != nil {
					return err
				}
				bar.set(m.seen.Add(1))
			}
			return nil
		})
	}
	err := g.Wait()
	bar.finish(m.seen.Load())
	return err
}

func sameExpiry(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -expirySlack && d < expirySlack
}

// copyOne writes r to the destination unless it is there already. The user
// link is written before the record, so a run interrupted between the two
// leaves nothing to repair when it is resumed.
func (m *migration) copyOne(ctx context.Context, r session.Record) error {
	switch {
	case r.ExpiresAt.IsZero():
		m.noExpiry.Add(1)
		return nil
	case !r.ExpiresAt.After(time.Now()):
		m.expired.Add(1)
		return nil
	}
	if !m.force {
		data, exp, found, err := m.dst.Load(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("destination: load session %s: %w", session.LogID(r.ID), err)
		}
		if found && sameExpiry(exp, r.ExpiresAt) && bytes.Equal(data, r.Data) {
			m.present.Add(1)
			return nil
		}
	}
	if m.users != nil {
		if user := jsoncodec.User(r.Data, m.userKey); user != "" {
			if err := m.users.LinkUser(ctx, user, r.ID, r.ExpiresAt); err != nil {
				return fmt.Errorf("destination: link session %s to its user: %w", session.LogID(r.ID), err)
			}
			m.linked.Add(1)
		}
	}
	if err := m.dst.Save(ctx, r.ID, r.Data, r.ExpiresAt); err != nil {
		return fmt.Errorf("destination: save session %s: %w", session.LogID(r.ID), err)
	}
	m.copied.Add(1)
	return nil
}

// verifyOne checks that the destination holds r as the source does.
func (m *migration) verifyOne(ctx context.Context, r session.Record) error {
	if r.ExpiresAt.IsZero() || !r.ExpiresAt.After(time.Now().Add(expirySlack)) {
		return nil
	}
	data, exp, found, err := m.dst.Load(ctx, r.ID)
	switch {
	case err != nil:
		return fmt.Errorf("destination: load session %s: %w", session.LogID(r.ID), err)
	case !found:
		m.missing.Add(1)
	case !sameExpiry(exp, r.ExpiresAt) || !bytes.Equal(data, r.Data):
		m.differ.Add(1)
	default:
		m.verified.Add(1)
	}
	return nil
}
