package mysqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"math/rand/v2"
	"time"
)

// Prune deletes the rows that expired before now, in batches of at most
// Options.PruneBatch rows, each its own statement, and returns how many it
// deleted. "Now" is fixed when Prune starts, so it ends even while rows
// keep expiring. Between batches it rests as long as the last batch took,
// so a large prune leaves live requests most of the server.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	return s.prune(ctx, s.stmts.prune)
}

type stmtExecer interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
}

func (s *Store) prune(ctx context.Context, st stmtExecer) (int64, error) {
	now := unixRound(time.Now())
	batch := int64(s.opts.PruneBatch)
	var total int64
	for {
		start := time.Now()
		res, err := st.ExecContext(ctx, now, batch)
		if err != nil {
			return total, s.wrap("prune", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, s.wrap("prune", err)
		}
		total += n
		if s.batchHook != nil {
			s.batchHook(n)
		}
		if n < batch {
			return total, nil
		}
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
			s.opts.Logger.Warn("session prune failed", "table", s.table, "err", err)
		case ran && n > 0:
			s.opts.Logger.Info("session prune", "table", s.table, "deleted", n)
		}
		if s.loopHook != nil {
			s.loopHook(ran)
		}
	}
}

// pruneExclusive prunes while holding a named lock on one connection, so
// that among all processes sharing the table only one prunes at a time;
// the others skip their round. It reports whether it got the lock.
func (s *Store) pruneExclusive(ctx context.Context) (ran bool, n int64, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, 0, s.wrap("prune", err)
	}
	defer conn.Close()
	name := s.lockPrefix + "prune"
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, 0)`, name).Scan(&got); err != nil {
		return false, 0, s.wrap("prune lock", err)
	}
	if got.Int64 != 1 {
		return false, 0, nil
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		var released sql.NullInt64
		if err := conn.QueryRowContext(rctx, `SELECT RELEASE_LOCK(?)`, name).Scan(&released); err != nil || released.Int64 != 1 {
			// Ending the connection's session releases its locks.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	st, err := conn.PrepareContext(ctx, pruneSQL(s.table))
	if err != nil {
		return true, 0, s.wrap("prune", err)
	}
	defer st.Close()
	n, err = s.prune(ctx, st)
	return true, n, err
}
