package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/internal/redact"
	"github.com/sessionkit/sessionkit/internal/storeurl"
)

// URLForms describes, for help texts, the URLs Open takes.
const URLForms = `postgres://[user[:password]@]host[:port]/database[?param=value&…]
postgresql://…   (the same)
    store parameters: table (session), schema (search_path), create_table (false),
    prune_interval (15m, or off), prune_batch (1000), user_key (user_id), user_index (false);
    the others go to pgx and the server (sslmode, connect_timeout, pool_max_conns, …)`

// Open returns a Store on a pool of its own, opened from a postgres:// or
// postgresql:// URL (or a key=value connection string), which Close closes.
// The URL's query parameters below set the Options of the same meaning,
// overriding opts; they are removed before the rest goes to pgx (sslmode,
// pool_max_conns, connect_timeout, and the server settings pgx passes on):
//
//	table          Table (default session)
//	schema         Schema (default: the search_path)
//	create_table   CreateTable, a boolean (default false)
//	prune_interval PruneInterval, a duration or "off" (default 15m)
//	prune_batch    PruneBatch (default 1000)
//	user_key       UserKey (default user_id)
//	user_index     UserIndex, a boolean, with create_table (default false)
//
// A parameter the server does not know fails when the pool first connects,
// with the server's error. A key=value connection string takes none of these
// parameters: set opts instead. Errors never contain the password.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	return open(ctx, rawURL, opts, storeurl.Options{})
}

// OpenURL is Open with default Options and what any program may ask of a
// store it opens by URL (see stores.Options); package stores calls it for
// the postgres and postgresql schemes. With o.NoCreate a missing table is an
// error whatever create_table says.
func OpenURL(ctx context.Context, rawURL string, o storeurl.Options) (*Store, error) {
	return open(ctx, rawURL, Options{}, o)
}

func open(ctx context.Context, rawURL string, opts Options, o storeurl.Options) (*Store, error) {
	connString, err := parseURL(rawURL, &opts)
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
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, redact.Error(fmt.Errorf("postgres: %w", err), rawURL)
	}
	if o.Conns > 0 && !strings.Contains(connString, "pool_max_conns") && cfg.MaxConns < int32(o.Conns) {
		cfg.MaxConns = int32(o.Conns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redact.Error(fmt.Errorf("postgres: %w", err), rawURL)
	}
	s, err := newStore(ctx, pool, true, opts)
	if err != nil {
		pool.Close()
		return nil, redact.Error(err, rawURL)
	}
	return s, nil
}

// params are the query parameters the store takes for itself.
var params = []string{"table", "schema", "create_table", "prune_interval", "prune_batch", "user_key", "user_index"}

// parseURL applies and strips the store's query parameters.
func parseURL(raw string, opts *Options) (connString string, err error) {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return raw, nil
	}
	if _, err := url.Parse(raw); err != nil {
		// url.Error repeats the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("postgres: invalid URL: %w", err)
	}
	rest, p, err := storeurl.Split("postgres", raw, params...)
	if err != nil {
		return "", err
	}
	p.String("table", &opts.Table)
	p.String("schema", &opts.Schema)
	p.Bool("create_table", &opts.CreateTable)
	p.Duration("prune_interval", &opts.PruneInterval, -1)
	p.Positive("prune_batch", &opts.PruneBatch)
	p.String("user_key", &opts.UserKey)
	p.Bool("user_index", &opts.UserIndex)
	return rest, p.Err()
}
