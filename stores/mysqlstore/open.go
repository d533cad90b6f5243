package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// URL query parameters Open takes for itself; the others go to the driver.
var ownParams = []string{"table", "create_table", "prune_interval", "prune_batch", "user_key",
	"max_open_conns", "max_idle_conns", "conn_max_lifetime"}

// Open returns a Store on a database handle of its own, which Close closes,
// opened from a URL:
//
//	mysql://user:password@host:3306/database?table=sessions&create_table=true
//
// The host defaults to 127.0.0.1 and the port to 3306; the database is
// required. These query parameters set Options, overriding opts:
//
//	table              Options.Table (default sessions)
//	create_table       Options.CreateTable (boolean, default false)
//	prune_interval     Options.PruneInterval (a duration, or "off")
//	prune_batch        Options.PruneBatch
//	user_key           Options.UserKey
//
// and these size the handle's pool (database/sql's settings):
//
//	max_open_conns     SetMaxOpenConns (default 0, no limit)
//	max_idle_conns     SetMaxIdleConns (default 16)
//	conn_max_lifetime  SetConnMaxLifetime (a duration; default none)
//
// The others go to github.com/go-sql-driver/mysql as DSN parameters (tls,
// timeout, readTimeout, charset, …; a name the driver does not know is a
// session variable to SET, such as time_zone='+00:00'); clientFoundRows
// defaults to true. Errors never contain the password.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	cfg, pool, err := parseURL(rawURL, &opts)
	if err != nil {
		return nil, err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, redact(fmt.Errorf("mysql: %w", err), cfg.Passwd)
	}
	db := sql.OpenDB(conn)
	pool.apply(db)
	s, err := newStore(ctx, db, true, opts)
	if err != nil {
		db.Close()
		return nil, redact(err, cfg.Passwd)
	}
	return s, nil
}

// poolSettings are the database/sql pool settings of a URL.
type poolSettings struct {
	maxOpen, maxIdle int
	lifetime         time.Duration
}

func (p poolSettings) apply(db *sql.DB) {
	db.SetMaxOpenConns(p.maxOpen)
	db.SetMaxIdleConns(p.maxIdle)
	db.SetConnMaxLifetime(p.lifetime)
}

// parseURL turns a mysql:// URL into a driver configuration, applying the
// store's and the pool's parameters.
func parseURL(raw string, opts *Options) (*mysql.Config, poolSettings, error) {
	pool := poolSettings{maxIdle: 16}
	scheme, _, _ := strings.Cut(raw, "://")
	if !strings.EqualFold(scheme, "mysql") {
		return nil, pool, errors.New(`mysql: the URL must start with mysql://`)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		msg := err.Error()
		if i := strings.Index(raw, "://"); i >= 0 {
			rest := raw[i+3:]
			if at := strings.LastIndex(rest, "@"); at > 0 {
				msg = strings.ReplaceAll(msg, rest[:at], "xxxxx")
			}
		}
		return nil, pool, fmt.Errorf("mysql: invalid URL (not shown: it may hold a password): %s", msg)
	}
	q := u.Query()
	last := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[len(v)-1], true
	}
	var perr error
	bad := func(k, v, want string) {
		if perr == nil {
			perr = fmt.Errorf("mysql: URL parameter %s=%q is not %s", k, v, want)
		}
	}
	posInt := func(k string, dst *int, allowZero bool) {
		if v, ok := last(k); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || (n == 0 && !allowZero) {
				bad(k, v, "a positive integer")
				return
			}
			*dst = n
		}
	}
	if v, ok := last("table"); ok {
		opts.Table = v
	}
	if v, ok := last("create_table"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("create_table", v, "a boolean")
		}
		opts.CreateTable = b
	}
	if v, ok := last("prune_interval"); ok {
		if strings.EqualFold(v, "off") {
			opts.PruneInterval = -1
		} else if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			bad("prune_interval", v, `a positive duration such as "15m", or "off"`)
		} else {
			opts.PruneInterval = d
		}
	}
	posInt("prune_batch", &opts.PruneBatch, false)
	if v, ok := last("user_key"); ok {
		opts.UserKey = v
	}
	posInt("max_open_conns", &pool.maxOpen, true)
	posInt("max_idle_conns", &pool.maxIdle, true)
	if v, ok := last("conn_max_lifetime"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			bad("conn_max_lifetime", v, `a duration such as "5m"`)
		}
		pool.lifetime = d
	}
	if perr != nil {
		return nil, pool, perr
	}
	for _, k := range ownParams {
		q.Del(k)
	}

	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, pool, errors.New("mysql: the URL must name one database: mysql://user:password@host:3306/database")
	}
	host := u.Host
	if u.Hostname() == "" {
		host = "127.0.0.1"
		if p := u.Port(); p != "" {
			host += ":" + p
		}
	}
	if u.Port() == "" {
		host = strings.TrimSuffix(host, ":") + ":3306"
	}
	// The driver parses the remaining parameters itself: its DSN query
	// has the same escaping as a URL's.
	dsn := "tcp(" + host + ")/" + url.PathEscape(db)
	if rest := q.Encode(); rest != "" {
		dsn += "?" + rest
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, pool, fmt.Errorf("mysql: %w", err)
	}
	cfg.DBName = db
	if !q.Has("clientFoundRows") {
		// Affected rows then count the rows an UPDATE matched, so Replace
		// needs no second statement to tell "unchanged" from "conflict".
		cfg.ClientFoundRows = true
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	return cfg, pool, nil
}

// redactedError hides a password in an error's text but keeps its chain
// for errors.Is and errors.As.
type redactedError struct {
	err      error
	password string
}

func (e *redactedError) Error() string {
	s := strings.ReplaceAll(e.err.Error(), e.password, "xxxxx")
	return strings.ReplaceAll(s, url.QueryEscape(e.password), "xxxxx")
}

func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, password string) error {
	if err == nil || password == "" {
		return err
	}
	return &redactedError{err: err, password: password}
}
