package mysqlstore

import (
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/mysqltest"
	"github.com/sessionkit/sessionkit/session"
)

func TestParseURL(t *testing.T) {
	var o Options
	cfg, pool, err := parseURL("mysql://app:p%40ss%3Aw@db.example:3307/shop?table=web_sessions&create_table=1&prune_interval=off&prune_batch=50&user_key=uid&max_open_conns=9&max_idle_conns=3&conn_max_lifetime=5m&timeout=2s&time_zone=%27%2B09%3A00%27", &o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "app" || cfg.Passwd != "p@ss:w" || cfg.Addr != "db.example:3307" || cfg.DBName != "shop" || cfg.Net != "tcp" {
		t.Errorf("config %+v", cfg)
	}
	if cfg.Timeout != 2*time.Second || cfg.Params["time_zone"] != "'+09:00'" {
		t.Errorf("driver parameters: timeout %v, params %v", cfg.Timeout, cfg.Params)
	}
	if o.Table != "web_sessions" || !o.CreateTable || o.PruneInterval != -1 || o.PruneBatch != 50 || o.UserKey != "uid" {
		t.Errorf("options %+v", o)
	}
	if pool != (poolSettings{maxOpen: 9, maxIdle: 3, idleSet: true, lifetime: 5 * time.Minute}) {
		t.Errorf("pool %+v", pool)
	}
	for _, p := range params {
		if _, ok := cfg.Params[p]; ok {
			t.Errorf("%s went to the driver", p)
		}
	}

	cfg, _, err = parseURL("mysql://root@/test", &o)
	if err != nil || cfg.Addr != "127.0.0.1:3306" || cfg.User != "root" || cfg.Passwd != "" {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}

	for _, bad := range []string{
		"mysql://root@127.0.0.1:3306/",
		"mysql://root@127.0.0.1:3306/test?create_table=maybe",
		"mysql://root@127.0.0.1:3306/test?prune_batch=0",
		"mysql://root@127.0.0.1:3306/test?prune_interval=soon",
		"mysql://root@127.0.0.1:3306/test?timeout=forever",
		"postgres://root@127.0.0.1/test",
		"mysql://u:s3cret@127.0.0.1:bad port/test",
	} {
		if _, _, err := parseURL(bad, &Options{}); err == nil {
			t.Errorf("parseURL(%q) accepted it", bad)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

func TestOpen(t *testing.T) {
	mysqltest.DB(t, nil) // skips when there is no server
	table := mysqltest.Table(t)
	s, err := Open(t.Context(), mysqltest.URLWith("create_table=true&prune_interval=off&table=")+table, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(t.Context(), "a", []byte(doc), hour()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(t.Context()); n != 1 || err != nil {
		t.Errorf("Count = %d, %v", n, err)
	}
	s.Close()
	if err := s.DB().Ping(); err == nil {
		t.Error("Close left the handle Open made open")
	}
	// A missing table without create_table.
	if _, err := Open(t.Context(), mysqltest.URLWith("table=")+mysqltest.Table(t), Options{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open of a missing table = %v", err)
	}
	// A wrong password is reported without it.
	u, err := url.Parse(mysqltest.URLWith("timeout=3s"))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("nobody-"+strconv.Itoa(os.Getpid()), "Sup3rS3cret")
	if _, err := Open(t.Context(), u.String(), Options{}); err == nil || strings.Contains(err.Error(), "Sup3rS3cret") {
		t.Errorf("Open with a wrong password = %v", err)
	}
}

// TestReplaceFoundRows runs Replace on a handle whose affected-row counts
// are matched rows (as Open makes it): an unchanged write still succeeds and
// a stale one still conflicts.
func TestReplaceFoundRows(t *testing.T) {
	mysqltest.DB(t, nil)
	s, err := Open(t.Context(), mysqltest.URLWith("create_table=true&prune_interval=off&table=")+mysqltest.Table(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	exp := hour()
	if ok, err := s.Insert(ctx, "f", []byte(doc), exp); !ok || err != nil {
		t.Fatal(ok, err)
	}
	_, _, v, _, _ := s.LoadVersion(ctx, "f")
	if err := s.Replace(ctx, "f", []byte(doc), exp, v); err != nil {
		t.Errorf("Replace with the values already stored = %v", err)
	}
	if err := s.Replace(ctx, "f", []byte(`{"n":2}`), exp, v); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(ctx, "f", []byte(`{"n":3}`), exp, v); !errors.Is(err, session.ErrConflict) {
		t.Errorf("stale Replace = %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(ctx, "f", []byte(`{"n":4}`), exp, v); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Replace of a deleted row = %v, want ErrNotFound", err)
	}
}
