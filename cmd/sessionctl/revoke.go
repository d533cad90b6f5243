package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
)

// runRevoke ends every live session of one user ("log out everywhere", for
// an operator, say after an account was taken over). By default it asks the
// store's user index, through the Manager, which checks each candidate.
// --scan reads every session instead: slower, but it also finds sessions the
// index never linked, such as those a Node app wrote to Redis or bbolt that
// no Go service has loaded since.
func runRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := command("revoke", "revoke --user U [--user-key KEY] [--scan] [--dry-run] URL\n\nEnds every live session of a user (log out everywhere).", true)
	user := fs.String("user", "", "the user whose sessions end (required)")
	userKey := fs.String("user-key", "user_id", "top-level JSON key holding the user")
	scan := fs.Bool("scan", false, "read every session rather than the user index, to find sessions no index links")
	dryRun := fs.Bool("dry-run", false, "count the user's sessions and delete none")
	raw, err := oneURL(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case *user == "":
		return usagef("revoke needs --user")
	case *userKey == "":
		return usagef("--user-key must not be empty")
	}
	t, err := open(ctx, raw, existing)
	if err != nil {
		return err
	}
	defer t.Close()

	_, indexed := t.store.(session.UserIndex)
	if !*scan && !indexed {
		fmt.Fprintf(stderr, "the %s store has no user index; reading every session\n", t.backend)
		*scan = true
	}
	if *scan {
		return revokeByScan(ctx, t, *user, *userKey, *dryRun, stdout, stderr)
	}
	m, err := session.New(session.Config{
		Store: t.store, Codec: jsoncodec.New(), UserKey: *userKey,
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
	})
	if err != nil {
		return usageError{err}
	}
	if *dryRun {
		infos, err := m.UserSessions(ctx, *user)
		if errors.Is(err, session.ErrUnsupported) {
			fmt.Fprintf(stderr, "the %s store keeps no user index; reading every session\n", t.backend)
			return revokeByScan(ctx, t, *user, *userKey, *dryRun, stdout, stderr)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d live sessions of the user in the user index; none deleted\n", len(infos))
		return nil
	}
	n, err := m.RevokeUser(ctx, *user)
	if errors.Is(err, session.ErrUnsupported) {
		fmt.Fprintf(stderr, "the %s store keeps no user index; reading every session\n", t.backend)
		return revokeByScan(ctx, t, *user, *userKey, *dryRun, stdout, stderr)
	}
	if err != nil {
		return fmt.Errorf("revoked %d sessions before: %w", n, err)
	}
	fmt.Fprintf(stdout, "revoked %d sessions of the user found in the user index\n", n)
	return nil
}

// revokeByScan lists every live session, keeps those whose JSON document
// names user under userKey, and deletes them once the listing is done (a
// bbolt write inside its own read would wait on itself).
func revokeByScan(ctx context.Context, t *target, user, userKey string, dryRun bool, stdout, stderr io.Writer) error {
	it, ok := t.store.(session.Iterator)
	if !ok {
		return fmt.Errorf("the %s store can neither find a user's sessions nor list them", t.backend)
	}
	var total int64
	if c, ok := t.store.(session.Counter); ok {
		var err error
		if total, err = c.Count(ctx); err != nil {
			return err
		}
	}
	bar := newProgress(stderr, "scanning", total)
	var ids []string
	var seen int64
	foreign := skipped(t.store)
	err := it.Iterate(ctx, func(r session.Record) error {
		seen++
		bar.set(seen)
		if jsoncodec.User(r.Data, userKey) == user {
			ids = append(ids, r.ID)
		}
		return nil
	})
	bar.finish(seen)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	foreign(stdout)
	if dryRun {
		fmt.Fprintf(stdout, "%d live sessions of the user among %d read; none deleted\n", len(ids), seen)
		return nil
	}
	ui, _ := t.store.(session.UserIndex)
	for i, id := range ids {
		if err := t.store.Delete(ctx, id); err != nil {
			return fmt.Errorf("revoked %d of %d sessions before: %w", i, len(ids), err)
		}
		if ui != nil {
			if err := ui.UnlinkUser(ctx, user, id); err != nil {
				return fmt.Errorf("revoked %d of %d sessions, then the user index: %w", i+1, len(ids), err)
			}
		}
	}
	fmt.Fprintf(stdout, "revoked %d sessions of the user among %d read\n", len(ids), seen)
	return nil
}

// skipped notes how many keys of another type than a session the store has
// met so far (Redis: another application's keys under the session prefix)
// and returns a func that reports how many more it met since, if any.
func skipped(st any) func(io.Writer) {
	f, ok := st.(interface{ Foreign() int64 })
	if !ok {
		return func(io.Writer) {}
	}
	before := f.Foreign()
	return func(w io.Writer) {
		switch n := f.Foreign() - before; {
		case n == 1:
			fmt.Fprintln(w, "skipped 1 key of another type under the session prefix (not a session)")
		case n > 1:
			fmt.Fprintf(w, "skipped %d keys of another type under the session prefix (not sessions)\n", n)
		}
	}
}
