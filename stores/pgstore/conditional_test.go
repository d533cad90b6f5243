package pgstore

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/session"
)

// TestConditionalExecModes runs the conditional calls in every pgx query
// exec mode: the version is sent as text and cast on the server, and the
// json argument follows the mode, as in Save.
func TestConditionalExecModes(t *testing.T) {
	for name, mode := range map[string]pgx.QueryExecMode{
		"cache-statement": pgx.QueryExecModeCacheStatement,
		"cache-describe":  pgx.QueryExecModeCacheDescribe,
		"describe-exec":   pgx.QueryExecModeDescribeExec,
		"exec":            pgx.QueryExecModeExec,
		"simple-protocol": pgx.QueryExecModeSimpleProtocol,
	} {
		t.Run(name, func(t *testing.T) {
			pool := pgtest.Pool(t, func(c *pgxpool.Config) { c.ConnConfig.DefaultQueryExecMode = mode })
			e := env{pool: pool, schema: pgtest.Schema(t, pool)}
			s := e.store(t, Options{})
			ctx := t.Context()
			data := []byte(`{"cookie":{},"s":"it's \"quoted\" \\ \u00e9"}`)
			if ok, err := s.Insert(ctx, "m", data, hour()); err != nil || !ok {
				t.Fatalf("Insert = %v, %v", ok, err)
			}
			got, _, ver, found, err := s.LoadVersion(ctx, "m")
			if err != nil || !found || string(got) != string(data) || len(ver) == 0 {
				t.Fatalf("LoadVersion = %s, %q, %v, %v", got, ver, found, err)
			}
			if err := s.Replace(ctx, "m", []byte(`{"cookie":{},"n":2}`), hour(), ver); err != nil {
				t.Fatalf("Replace: %v", err)
			}
			if err := s.Replace(ctx, "m", []byte(`{"cookie":{},"n":3}`), hour(), ver); !errors.Is(err, session.ErrConflict) {
				t.Fatalf("stale Replace = %v; want ErrConflict", err)
			}
			if err := s.Replace(ctx, "gone", data, hour(), ver); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Replace of a missing row = %v; want ErrNotFound", err)
			}
		})
	}
}

// TestNodeStyleWritesChangeTheVersion: connect-pg-simple's set (an upsert)
// and touch (an UPDATE of expire) both make a loaded version stale, so a
// write by a Node app between our load and our save is never overwritten.
func TestNodeStyleWritesChangeTheVersion(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	for name, sql := range map[string]string{
		// The statements connect-pg-simple sends, verbatim in shape.
		"set":   `INSERT INTO ` + s.Table() + ` (sess, expire, sid) SELECT $1, to_timestamp($2), $3 ON CONFLICT (sid) DO UPDATE SET sess=$1, expire=to_timestamp($2) RETURNING sid`,
		"touch": `UPDATE ` + s.Table() + ` SET expire = to_timestamp($1) WHERE sid = $2 RETURNING sid`,
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Save(ctx, name, []byte(`{"cookie":{},"a":1}`), hour()); err != nil {
				t.Fatal(err)
			}
			_, _, ver, _, err := s.LoadVersion(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			node := `{"cookie":{},"a":1,"node":true}`
			args := []any{node, hour().Unix(), name}
			if name == "touch" {
				args = args[1:]
			}
			_, err = pool(s).Exec(ctx, sql, args...)
			if err != nil {
				t.Fatalf("Node's %s: %v", name, err)
			}
			err = s.Replace(ctx, name, []byte(`{"cookie":{},"a":2}`), hour(), ver)
			if !errors.Is(err, session.ErrConflict) {
				t.Fatalf("Replace after Node's %s = %v; want ErrConflict", name, err)
			}
		})
	}
}

func pool(s *Store) *pgxpool.Pool { return s.pool }
