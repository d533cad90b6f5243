package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/session"
)

// The session.ConditionalStore capability, with no change to the table.
//
// The version is the row's xmin, the ID of the transaction that wrote its
// current version, read as text in the same SELECT as sess. Replace is one
// UPDATE … WHERE "sid" = $ AND "xmin" = $version, so it writes only over the
// row version that was loaded. Every write to the row gives it a new xmin:
// our Save, Replace and Touch, and also connect-pg-simple's set (an INSERT …
// ON CONFLICT DO UPDATE) and touch (an UPDATE of expire), so a Node write
// between our load and our save is always detected. A Touch therefore makes
// the version stale too; that costs a request that loaded before a touch one
// reload and retry, and touches are throttled (Config.TouchInterval).
//
// Replace is a plain conditional UPDATE, which costs what the upsert of the
// unconditional model cost; only when it writes nothing does a second SELECT
// (LoadVersion's) tell a conflict from a missing row, and it hands the
// changed row to the Manager in a session.StaleError, so a conflict costs one
// extra load in all. (A single statement telling the two apart, a
// data-modifying CTE, measured about 4 % slower on every save.)
//
// Comparing the stored text instead (WHERE "sess"::text = $loaded) was the
// alternative: a touch would not disturb it (Node's express-session touches
// on every request that does not save), but every Replace would send the
// document twice and have the server compare it. Measured load + replace
// pairs: equal at 250 bytes, 2 % slower at 4 KiB, 8 % at 16 KiB, while xmin
// costs the same at every size and a touch costs only the requests racing it
// one retry. xmin is reused only
// after about two billion transactions (wraparound), far beyond the life of
// a loaded session, and UPDATE re-checks it on the newest row version when a
// concurrent writer held the row, so two racing Replaces never both win.
// (Engines that only speak the PostgreSQL protocol may lack xmin; this store
// targets PostgreSQL.) See BENCHMARKS.md for the measured costs.

type condQueries struct {
	loadVersion, insert, replace string
}

func makeCondQueries(n names) condQueries {
	t := n.table
	return condQueries{
		loadVersion: `SELECT "sess", ` + epochMS + `, "xmin"::text FROM ` + t +
			` WHERE "sid" = $1 AND "expire" >= to_timestamp($2)`,
		// Over an expired row (not yet pruned) an insert is a new session.
		insert: `INSERT INTO ` + t + ` AS "cur" ("sess", "expire", "sid") VALUES ($1, to_timestamp($2), $3)` +
			` ON CONFLICT ("sid") DO UPDATE SET "sess" = EXCLUDED."sess", "expire" = EXCLUDED."expire"` +
			` WHERE "cur"."expire" < to_timestamp($4) RETURNING 1`,
		replace: `UPDATE ` + t + ` SET "sess" = $1, "expire" = to_timestamp($2)` +
			` WHERE "sid" = $3 AND "expire" >= to_timestamp($4) AND "xmin" = $5::text::xid`,
	}
}

var _ session.ConditionalStore = (*Store)(nil)

// LoadVersion is Load that also returns the row's xmin as the version, in
// the same statement.
func (s *Store) LoadVersion(ctx context.Context, id string) ([]byte, time.Time, []byte, bool, error) {
	if err := s.checkOpen(); err != nil {
		return nil, time.Time{}, nil, false, err
	}
	var (
		data, ver []byte
		ms        int64
	)
	err := s.pool.QueryRow(ctx, s.cq.loadVersion, id, unixCeil(time.Now())).Scan(&data, &ms, &ver)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, nil, false, nil
	}
	if err != nil {
		return nil, time.Time{}, nil, false, s.wrap("load", err)
	}
	return data, time.UnixMilli(ms), ver, true, nil
}

// jsonArg is data as the pool's exec mode must send it to the json column.
func (s *Store) jsonArg(data []byte) any {
	if s.textJSON || data == nil {
		return string(data)
	}
	return data
}

// Insert writes a new row unless a live row has the id, in one statement.
func (s *Store) Insert(ctx context.Context, id string, data []byte, expiresAt time.Time) (bool, error) {
	if err := s.checkOpen(); err != nil {
		return false, err
	}
	var one int
	err := s.pool.QueryRow(ctx, s.cq.insert, s.jsonArg(data), unixCeil(expiresAt), id, unixCeil(time.Now())).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.wrap("insert", err)
	}
	return true, nil
}

// Replace updates the live row only while its xmin is still version, in one
// statement. When that writes nothing, it loads the row as LoadVersion does,
// to tell a changed row from a missing one, and returns a changed one in a
// *session.StaleError, which the Manager takes as its reload: a conflict
// costs one extra load, as with any store. A row deleted between the two
// statements is reported missing, which it then is.
func (s *Store) Replace(ctx context.Context, id string, data []byte, expiresAt time.Time, version []byte) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.cq.replace, s.jsonArg(data), unixCeil(expiresAt), id, unixCeil(time.Now()), string(version))
	if err != nil {
		return s.wrap("replace", err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	cur, exp, ver, found, err := s.LoadVersion(ctx, id)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("postgres: replace: %w", session.ErrNotFound)
	}
	return fmt.Errorf("postgres: replace: %w", &session.StaleError{Data: cur, ExpiresAt: exp, Version: ver})
}
