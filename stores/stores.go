// Package stores opens a session store from a URL, so that an application
// chooses its backend by configuration:
//
//	st, err := stores.Open(ctx, os.Getenv("SESSION_STORE"))
//
// The built-in schemes are
//
//	postgres://, postgresql://     stores/pgstore (pgx connection URL)
//	mysql://user:pass@host:3306/db stores/mysqlstore (MySQL or MariaDB)
//	redis://, rediss://            stores/redisstore, one node, or a Cluster with addr= parameters
//	redis+cluster://, rediss+cluster://   stores/redisstore, a Cluster: host1:port,host2:port,…
//	redis+sentinel://, rediss+sentinel:// stores/redisstore, the master that Sentinels at
//	                               host1:port,host2:port,… know as ?master_name=
//	bbolt:///abs/path.db           stores/boltstore, an absolute path
//	bbolt://rel/path.db            stores/boltstore, relative to the working directory
//	memory://                      stores/memstore, in this process only
//
// Each driver takes its own query parameters (see Open); the rest go to the
// driver's client library. Another package adds a scheme with Register.
//
// The built-in drivers are registered by this package itself, which imports
// them, rather than by the drivers in their init functions: a driver then
// does not depend on this package, and a program that calls Open cannot forget
// the blank import that would make a scheme known. A program that wants only
// one driver imports that driver directly and never pays for the others.
package stores

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/sessionkit/sessionkit/session"
)

// Opener opens a store from rawURL, whose scheme is one it was registered
// for. It owns what it opens: the store's Close must release it. An Opener
// should not put rawURL in its errors; Open hides the URL's password in them
// anyway.
type Opener func(ctx context.Context, rawURL string) (session.Store, error)

var (
	mu      sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes scheme (compared without regard to case) open stores with
// op. It replaces an earlier registration of the same scheme, so an
// application can substitute its own driver for a built-in one. Register
// panics on an empty scheme or a nil op, as these are programming errors
// found at start-up.
func Register(scheme string, op Opener) {
	if scheme == "" || op == nil {
		panic("stores: Register needs a scheme and an Opener")
	}
	mu.Lock()
	defer mu.Unlock()
	openers[strings.ToLower(scheme)] = op
}

// Schemes returns the registered schemes, sorted.
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	s := make([]string, 0, len(openers))
	for k := range openers {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// ErrUnknownScheme is wrapped by Open's error when no driver is registered
// for the URL's scheme.
var ErrUnknownScheme = errors.New("stores: unknown scheme")

// Open opens the store that rawURL names, choosing the driver by the URL's
// scheme. An unknown or missing scheme is an error wrapping ErrUnknownScheme
// that lists the known ones. The password a URL may carry never appears in
// an error. The caller closes the store (it implements io.Closer) when done.
//
// Query parameters of the built-in drivers (durations as in time.ParseDuration,
// "off" disabling the background pruning):
//
//	postgres   table (default session), schema (default: search_path),
//	           create_table (bool, default false), prune_interval (default 15m),
//	           prune_batch (default 1000), user_key (default user_id),
//	           user_index (bool, with create_table; default false);
//	           the others (sslmode, pool_max_conns, …) go to pgx.
//	mysql      table (default sessions), create_table (bool, default false),
//	           prune_interval (default 15m), prune_batch (default 1000),
//	           user_key (default user_id), max_open_conns, max_idle_conns,
//	           conn_max_lifetime; the others (tls, timeout, …) go to the
//	           driver (see mysqlstore.Open).
//	redis      prefix (default "sess:"), user_prefix (default "sess-user:"),
//	           scan_count (default 1000); the others (db, dial_timeout,
//	           pool_size, addr, …) go to go-redis.
//	bbolt      bucket (default sessionkit), prune_interval (default 1m),
//	           prune_batch (default 1000), open_timeout (default 1s),
//	           verify (bool, default false), mode (octal, default 0600).
//	memory     prune_interval (default 1m).
func Open(ctx context.Context, rawURL string) (session.Store, error) {
	scheme, _, ok := strings.Cut(rawURL, ":")
	scheme = strings.ToLower(scheme)
	mu.RLock()
	op := openers[scheme]
	mu.RUnlock()
	if !ok || scheme == "" || op == nil {
		shown := scheme
		if !ok {
			shown = ""
		}
		return nil, fmt.Errorf("%w %q in session store URL: known schemes are %s",
			ErrUnknownScheme, shown, strings.Join(Schemes(), ", "))
	}
	st, err := op(ctx, rawURL)
	if err != nil {
		return nil, redact(err, rawURL)
	}
	return st, nil
}

// Redact returns rawURL with its password, if any, replaced by "xxxxx", for
// logs and messages. It handles URLs net/url cannot parse, such as a
// redis+cluster or redis+sentinel URL listing several hosts.
func Redact(rawURL string) string {
	if pw := password(rawURL); pw != "" {
		rawURL = hide(rawURL, pw)
	}
	if pw := queryPassword(rawURL); pw != "" {
		rawURL = hide(rawURL, pw)
	}
	return rawURL
}

// queryPassword returns the value of a password query parameter (libpq's
// spelling), if any.
func queryPassword(rawURL string) string {
	_, q, ok := strings.Cut(rawURL, "?")
	if !ok {
		return ""
	}
	q, _, _ = strings.Cut(q, "#")
	v, err := url.ParseQuery(q)
	if err != nil {
		return ""
	}
	return v.Get("password")
}

// password returns the password of rawURL's user information, as written.
func password(rawURL string) string {
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}

// hide replaces pw in s in every spelling it may take there.
func hide(s, pw string) string {
	spellings := []string{pw}
	if un, err := url.PathUnescape(pw); err == nil {
		spellings = append(spellings, un, url.QueryEscape(un), url.PathEscape(un))
	}
	// Longest first, so a spelling that contains another is hidden whole.
	slices.SortFunc(spellings, func(a, b string) int { return len(b) - len(a) })
	for _, p := range spellings {
		if p != "" {
			s = strings.ReplaceAll(s, p, "xxxxx")
		}
	}
	return s
}

// redactedError hides a password in an error's text and keeps its chain for
// errors.Is and errors.As.
type redactedError struct {
	err error
	pw  string
}

func (e *redactedError) Error() string { return hide(e.err.Error(), e.pw) }
func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, rawURL string) error {
	if pw := password(rawURL); pw != "" {
		err = &redactedError{err: err, pw: pw}
	}
	if pw := queryPassword(rawURL); pw != "" {
		err = &redactedError{err: err, pw: pw}
	}
	return err
}
