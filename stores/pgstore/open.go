package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Open returns a Store on a pool of its own, opened from a postgres:// or
// postgresql:// URL (or a key=value connection string), which Close closes.
// The URL's query parameters table, schema and create_table (a boolean)
// set Options.Table, Options.Schema and Options.CreateTable, overriding opts;
// they are removed before the rest goes to pgx. Errors never contain the
// password.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	connString, password, err := parseURL(rawURL, &opts)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, redact(fmt.Errorf("postgres: %w", err), password)
	}
	if password == "" {
		password = cfg.ConnConfig.Password
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redact(fmt.Errorf("postgres: %w", err), password)
	}
	s, err := newStore(ctx, pool, true, opts)
	if err != nil {
		pool.Close()
		return nil, redact(err, password)
	}
	return s, nil
}

// parseURL applies and strips the store's query parameters.
func parseURL(raw string, opts *Options) (connString, password string, err error) {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return raw, "", nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", "", fmt.Errorf("postgres: invalid URL (not shown: it may hold a password): %s", redactString(err.Error(), raw))
	}
	if u.User != nil {
		password, _ = u.User.Password()
	}
	q := u.Query()
	if password == "" {
		password = q.Get("password")
	}
	if v, ok := q["table"]; ok {
		opts.Table = v[len(v)-1]
	}
	if v, ok := q["schema"]; ok {
		opts.Schema = v[len(v)-1]
	}
	if v, ok := q["create_table"]; ok {
		b, err := strconv.ParseBool(v[len(v)-1])
		if err != nil {
			return "", "", fmt.Errorf("postgres: URL parameter create_table=%q is not a boolean", v[len(v)-1])
		}
		opts.CreateTable = b
	}
	q.Del("table")
	q.Del("schema")
	q.Del("create_table")
	u.RawQuery = q.Encode()
	return u.String(), password, nil
}

// redactString hides every password-like part of raw in s: the whole
// user-info of the URL, if it appears.
func redactString(s, raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if info := rest[:at]; info != "" {
				s = strings.ReplaceAll(s, info, "xxxxx")
			}
		}
	}
	return s
}

// redactedError hides a password in an error's text but keeps its chain
// for errors.Is and errors.As.
type redactedError struct {
	err      error
	password string
}

func (e *redactedError) Error() string {
	s := e.err.Error()
	s = strings.ReplaceAll(s, e.password, "xxxxx")
	return strings.ReplaceAll(s, url.QueryEscape(e.password), "xxxxx")
}

func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, password string) error {
	if err == nil || password == "" {
		return err
	}
	return &redactedError{err: err, password: password}
}
