package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/sessionkit/internal/redact"
	"github.com/sessionkit/sessionkit/internal/storeurl"
)

// URLForms describes, for help texts, the URLs Open takes.
const URLForms = `mysql://[user[:password]@][host][:port]/database[?param=value&…]
    store parameters: table (sessions), create_table (false), prune_interval (15m, or off),
    prune_batch (250), user_key (user_id), max_open_conns (0: no limit), max_idle_conns (16),
    conn_max_lifetime (none); the others go to go-sql-driver/mysql (tls, timeout,
    readTimeout, charset, …), names it does not know being session variables (time_zone, …)`

// params are the query parameters Open takes for itself; the others go to
// the driver.
var params = []string{"table", "create_table", "prune_interval", "prune_batch", "user_key",
	"max_open_conns", "max_idle_conns", "conn_max_lifetime"}

// Open returns a Store on a database handle of its own, which Close closes,
// opened from a URL:
//
//	mysql://user:password@host:3306/database?table=sessions&create_table=true
//
// The host defaults to 127.0.0.1 and the port to 3306; the database is
// required. These query parameters set Options, overriding opts:
//
//	table              Table (default sessions)
//	create_table       CreateTable, a boolean (default false)
//	prune_interval     PruneInterval, a duration or "off" (default 15m)
//	prune_batch        PruneBatch (default 250)
//	user_key           UserKey (default user_id)
//
// and these size the handle's pool (database/sql's settings):
//
//	max_open_conns     SetMaxOpenConns (default 0, no limit)
//	max_idle_conns     SetMaxIdleConns (default 16)
//	conn_max_lifetime  SetConnMaxLifetime, a duration (default none)
//
// The others go to github.com/go-sql-driver/mysql as DSN parameters (tls,
// timeout, readTimeout, charset, …); a name the driver does not know is a
// session variable it SETs on each connection, such as time_zone='+00:00',
// which the server refuses when it does not know it either. clientFoundRows
// defaults to true. Errors never contain the password.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	return open(ctx, rawURL, opts, storeurl.Options{})
}

// OpenURL is Open with default Options and what any program may ask of a
// store it opens by URL (see stores.Options); package stores calls it for
// the mysql scheme. With o.NoCreate a missing table is an error whatever
// create_table says; o.Conns raises max_idle_conns when the URL does not
// set it; o.Quiet silences go-sql-driver's logger, which is process-wide.
func OpenURL(ctx context.Context, rawURL string, o storeurl.Options) (*Store, error) {
	return open(ctx, rawURL, Options{}, o)
}

func open(ctx context.Context, rawURL string, opts Options, o storeurl.Options) (*Store, error) {
	cfg, pool, err := parseURL(rawURL, &opts)
	if err != nil {
		return nil, redact.Error(err, rawURL)
	}
	if o.NoPruning {
		opts.PruneInterval = -1
	}
	if o.NoCreate {
		opts.CreateTable = false
	}
	if o.PruneBatch > 0 {
		opts.PruneBatch = o.PruneBatch
	}
	if o.Conns > 0 && !pool.idleSet {
		pool.maxIdle = max(pool.maxIdle, o.Conns)
	}
	if o.Quiet {
		_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, redact.Error(fmt.Errorf("mysql: %w", err), rawURL)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(pool.maxOpen)
	db.SetMaxIdleConns(pool.maxIdle)
	db.SetConnMaxLifetime(pool.lifetime)
	s, err := newStore(ctx, db, true, opts)
	if err != nil {
		db.Close()
		return nil, redact.Error(err, rawURL)
	}
	return s, nil
}

// poolSettings are the database/sql pool settings of a URL.
type poolSettings struct {
	maxOpen, maxIdle int
	idleSet          bool
	lifetime         time.Duration
}

// parseURL turns a mysql:// URL into a driver configuration, applying the
// store's and the pool's parameters.
func parseURL(raw string, opts *Options) (*mysql.Config, poolSettings, error) {
	pool := poolSettings{maxIdle: 16}
	if scheme, _, _ := strings.Cut(raw, "://"); !strings.EqualFold(scheme, "mysql") {
		return nil, pool, errors.New(`mysql: the URL must start with mysql://`)
	}
	if _, err := url.Parse(raw); err != nil {
		// url.Error repeats the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, pool, fmt.Errorf("mysql: invalid URL: %w", err)
	}
	rest, p, err := storeurl.Split("mysql", raw, params...)
	if err != nil {
		return nil, pool, err
	}
	p.String("table", &opts.Table)
	p.Bool("create_table", &opts.CreateTable)
	p.Duration("prune_interval", &opts.PruneInterval, -1)
	p.Positive("prune_batch", &opts.PruneBatch)
	p.String("user_key", &opts.UserKey)
	nonNegative(p, "max_open_conns", &pool.maxOpen)
	pool.idleSet = p.Has("max_idle_conns")
	nonNegative(p, "max_idle_conns", &pool.maxIdle)
	p.Duration("conn_max_lifetime", &pool.lifetime, 0)
	if err := p.Err(); err != nil {
		return nil, pool, err
	}
	u, err := url.Parse(rest)
	if err != nil {
		return nil, pool, errors.New("mysql: invalid URL")
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, pool, errors.New("mysql: the URL must name one database: mysql://user:password@host:3306/database")
	}
	host := u.Hostname()
	if host == "" {
		host = "127.0.0.1"
	}
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	// The driver reads the remaining parameters itself: its DSN query has
	// a URL's escaping.
	dsn := "tcp(" + joinHostPort(host, port) + ")/" + url.PathEscape(db)
	if u.RawQuery != "" {
		dsn += "?" + u.RawQuery
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, pool, fmt.Errorf("mysql: %w", err)
	}
	cfg.DBName = db
	if !u.Query().Has("clientFoundRows") {
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

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// nonNegative reads a parameter that may be zero.
func nonNegative(p *storeurl.Params, k string, dst *int) {
	s, ok := p.Last(k)
	if !ok {
		return
	}
	if s == "0" {
		*dst = 0
		return
	}
	p.Positive(k, dst)
}
