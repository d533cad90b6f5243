package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
)

// runPrune deletes expired sessions through the store's Pruner, in batches
// of --batch, while a second connection measures how many remain to show
// progress.
func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := command("prune", "prune [--batch N] URL\n\nDeletes expired sessions in batches, showing progress on standard error.", true)
	batch := fs.Int("batch", 1000, "most expired sessions deleted per transaction")
	raw, err := oneURL(fs, args, stderr)
	if err != nil {
		return err
	}
	if *batch <= 0 {
		return usagef("--batch must be positive")
	}
	t, err := open(ctx, raw, stores.Options{NoCreate: true, PruneBatch: *batch})
	if err != nil {
		return err
	}
	defer t.Close()
	p, ok := t.store.(session.Pruner)
	if !ok {
		// A store without one leaves expiry to its backend (Redis).
		fmt.Fprintf(stdout, "pruned 0: the %s store does not prune on demand; its backend deletes expired sessions itself\n", t.backend)
		return nil
	}
	remaining, _ := t.store.(session.ExpiredCounter)
	var total int64
	if remaining != nil {
		if total, err = remaining.CountExpired(ctx); err != nil {
			return err
		}
	}
	start := time.Now()
	bar := newProgress(stderr, "pruning", total)
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := p.Prune(ctx)
		done <- result{n, err}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case res := <-done:
			bar.finish(res.n)
			if res.err != nil {
				return fmt.Errorf("prune stopped after %d: %w", res.n, res.err)
			}
			fmt.Fprintf(stdout, "pruned %d expired sessions in %v\n", res.n, time.Since(start).Round(time.Millisecond))
			return nil
		case <-tick.C:
			if remaining != nil {
				if left, err := remaining.CountExpired(ctx); err == nil {
					bar.set(max(0, total-left))
				}
			}
		}
	}
}
