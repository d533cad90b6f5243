package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// runPrune deletes expired sessions through the store's Pruner, in batches
// of --batch, while a second connection measures how many remain to show
// progress.
func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	batch := fs.Int("batch", 1000, "most expired sessions deleted per transaction")
	raw, err := oneURL(fs, args, stderr)
	if err != nil {
		return err
	}
	if *batch <= 0 {
		return usagef("--batch must be positive")
	}
	t, err := open(ctx, raw, openOptions{noCreate: true, mustExist: true, pruneBatch: *batch})
	if err != nil {
		return err
	}
	defer t.Close()
	p, ok := t.store.(session.Pruner)
	if !ok {
		if t.backend == "redis" {
			fmt.Fprintln(stdout, "pruned 0: Redis deletes expired sessions itself")
			return nil
		}
		return fmt.Errorf("the %s store cannot prune", t.backend)
	}
	remaining := expiredCounter(t)
	var total int64
	if remaining != nil {
		if total, err = remaining(ctx); err != nil {
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
				if left, err := remaining(ctx); err == nil {
					bar.set(max(0, total-left))
				}
			}
		}
	}
}

// expiredCounter returns a function counting the expired sessions left, for
// the stores where that is cheap, or nil.
func expiredCounter(t *target) func(context.Context) (int64, error) {
	switch st := t.store.(type) {
	case *pgstore.Store:
		q := "SELECT count(*) FROM " + st.Table() + " WHERE expire < to_timestamp($1)"
		return func(ctx context.Context) (int64, error) {
			var n int64
			// Seconds rounded up, as the store computes "now".
			now := (time.Now().UnixMilli() + 999) / 1000
			err := st.Pool().QueryRow(ctx, q, now).Scan(&n)
			return n, err
		}
	}
	if t.db != nil {
		return func(context.Context) (int64, error) {
			l, err := readBbolt(t.db, t.bucket, time.Now(), false)
			return l.expired, err
		}
	}
	return nil
}
