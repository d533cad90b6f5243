package mysqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/sessionkit/session"
)

// LoadVersion is Load that also returns the row's version: the SHA-256 of
// its data as the server holds it (see the package documentation). It is
// one statement, like Load. A Touch, from Go or Node, does not change the
// version.
func (s *Store) LoadVersion(ctx context.Context, id string) ([]byte, time.Time, []byte, bool, error) {
	if err := s.checkOpen(); err != nil {
		return nil, time.Time{}, nil, false, err
	}
	if !s.cols.fitsID(id) {
		return nil, time.Time{}, nil, false, ctx.Err()
	}
	var (
		data, version []byte
		exp           int64
		err           error
	)
	if s.hashHere {
		err = s.stmts.load.QueryRowContext(ctx, id, unixRound(time.Now())).Scan(&data, &exp)
		if err == nil && data != nil {
			sum := sha256.Sum256(data)
			version = sum[:]
		}
	} else {
		err = s.stmts.loadVersion.QueryRowContext(ctx, id, unixRound(time.Now())).Scan(&data, &exp, &version)
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && data == nil) {
		return nil, time.Time{}, nil, false, nil
	}
	if err != nil {
		return nil, time.Time{}, nil, false, s.wrap("load", err)
	}
	return data, endOf(exp), version, true, nil
}

// Insert writes a new row under id unless a live row has it; an expired
// row with the id is written over. It is one statement when the id is
// free.
func (s *Store) Insert(ctx context.Context, id string, data []byte, expiresAt time.Time) (bool, error) {
	if err := s.checkOpen(); err != nil {
		return false, err
	}
	if err := s.checkWrite(id, data); err != nil {
		return false, err
	}
	exp := s.seconds(expiresAt)
	_, err := s.stmts.insert.ExecContext(ctx, id, exp, text(data))
	if err == nil {
		return true, nil
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 { // ER_DUP_ENTRY
		return false, s.wrap("insert", err)
	}
	res, err := s.stmts.takeOver.ExecContext(ctx, text(data), exp, id, unixRound(time.Now()))
	if err != nil {
		return false, s.wrap("insert", err)
	}
	n, err := res.RowsAffected()
	return n > 0, s.wrap("insert", err)
}

// Replace writes data and expiresAt over id's live row while its data
// still hashes to version. It returns an error wrapping
// session.ErrConflict when the data has changed since, and one wrapping
// session.ErrNotFound when no live row has the id; in both cases it writes
// nothing.
func (s *Store) Replace(ctx context.Context, id string, data []byte, expiresAt time.Time, version []byte) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.checkWrite(id, data); err != nil {
		return err
	}
	now := unixRound(time.Now())
	res, err := s.stmts.replace.ExecContext(ctx, text(data), s.seconds(expiresAt), id, now, version)
	if err != nil {
		return s.wrap("replace", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap("replace", err)
	}
	if n > 0 {
		return nil
	}
	// Nothing changed: the row is gone, its data changed, or (without the
	// client's found-rows flag, which Open sets) it matched and already held
	// these values.
	var (
		cur  []byte
		live bool
	)
	err = s.stmts.probe.QueryRowContext(ctx, now, id).Scan(&cur, &live)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("mysql: replace session %s: %w", session.LogID(id), session.ErrNotFound)
	case err != nil:
		return s.wrap("replace", err)
	case !live || cur == nil:
		return fmt.Errorf("mysql: replace session %s: %w", session.LogID(id), session.ErrNotFound)
	case !bytes.Equal(cur, version):
		return fmt.Errorf("mysql: replace session %s: %w", session.LogID(id), session.ErrConflict)
	}
	return nil
}
