package pgstore

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Prune deletes the rows that expired before now, in batches of at most
// Options.PruneBatch rows, each its own transaction, and returns how many it
// deleted. Rows locked by a concurrent writer are skipped, not waited for.
// "Now" is fixed when Prune starts, so it ends even while rows keep
// expiring. Between batches it rests as long as the last batch took, so a
// large prune leaves live requests most of the server.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	return s.prune(ctx, s.pool)
}

func (s *Store) prune(ctx context.Context, q execer) (int64, error) {
	now := unixCeil(time.Now())
	batch := int64(s.opts.PruneBatch)
	var total int64
	for {
		start := time.Now()
		tag, err := q.Exec(ctx, s.q.prune, now, batch)
		if err != nil {
			return total, s.wrap("prune", err)
		}
		n := tag.RowsAffected()
		total += n
		if s.batchHook != nil {
			s.batchHook(n)
		}
		if n < batch {
			return total, nil
		}
		// Rest as long as the batch took, so a big prune takes at most
		// about half the server's write capacity from live requests
		// (pruning 500,000 rows without the rest doubled the p99 of
		// concurrent saves; with it, 1.4×).
		t := time.NewTimer(time.Since(start))
		select {
		case <-ctx.Done():
			t.Stop()
			return total, ctx.Err()
		case <-t.C:
		}
	}
}

// pruneLoop prunes on a jittered interval until ctx is done.
func (s *Store) pruneLoop(ctx context.Context) {
	defer close(s.loopDone)
	for {
		// Between half and one and a half intervals, as connect-pg-simple
		// does, so that processes started together spread out.
		d := s.opts.PruneInterval/2 + rand.N(s.opts.PruneInterval)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		ran, n, err := s.pruneExclusive(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.opts.Logger.Warn("session prune failed", "table", s.names.table, "err", err)
		case ran && n > 0:
			s.opts.Logger.Info("session prune", "table", s.names.table, "deleted", n)
		}
		if s.loopHook != nil {
			s.loopHook(ran)
		}
	}
}

// pruneExclusive prunes on one connection while holding a session-level
// advisory lock, so that among all processes sharing the table only one
// prunes at a time; the others skip their round. It reports whether it got
// the lock.
func (s *Store) pruneExclusive(ctx context.Context) (ran bool, n int64, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, 0, s.wrap("prune", err)
	}
	defer conn.Release()
	key := lockKey("prune", s.names.table)
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		return false, 0, s.wrap("prune lock", err)
	}
	if !got {
		return false, 0, nil
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		var released bool
		uerr := conn.QueryRow(uctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&released)
		if uerr == nil && !released {
			// The server says this session does not hold the lock: the
			// statements went to different server connections, as behind
			// PgBouncer in transaction mode, and the lock may stay held.
			s.opts.Logger.Warn("session prune: advisory lock not released; behind a transaction-pooling proxy, disable PruneInterval and prune from one place (sessionctl prune)", "table", s.names.table)
		}
		if uerr != nil || !released {
			// Closing the connection releases a lock it holds; the pool
			// then drops it.
			conn.Conn().Close(uctx)
		}
	}()
	n, err = s.prune(ctx, conn)
	return true, n, err
}
