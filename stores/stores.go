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
// This package is only a table of schemes. Each store package opens itself
// from its URL and owns its query parameters, documented at its OpenURL
// (pgstore.Open, mysqlstore.Open, redisstore.Open, boltstore.OpenURL,
// memstore.OpenURL): a parameter a store does not know is an error, from
// the store or from its client library (a PostgreSQL server refuses one when
// it is first connected to). Another package adds a scheme with Register.
//
// The built-in stores are registered by this package itself, which imports
// them, rather than by the stores in their init functions: a store then
// does not depend on this package, and a program that calls Open cannot
// forget the blank import that would make a scheme known. A program that
// wants only one store imports that store directly and never pays for the
// others.
package stores

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sessionkit/sessionkit/internal/redact"
	"github.com/sessionkit/sessionkit/internal/storeurl"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/boltstore"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/mysqlstore"
	"github.com/sessionkit/sessionkit/stores/pgstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// builtin is the table of the stores this package knows: a backend joins
// with one line here and its package's OpenURL.
var builtin = []struct {
	name    string
	schemes []string
	open    Opener
	// forms describes the store's URLs, for Usage.
	forms string
	// where, if set, names the place a URL opens, for Same.
	where func(rawURL string) (string, error)
	// schema, if set, returns the SQL that creates what a URL names, for
	// Schema.
	schema func(rawURL string) (string, error)
}{
	{"postgres", []string{"postgres", "postgresql"}, adapt(pgstore.OpenURL), pgstore.URLForms, nil, pgstore.SchemaURL},
	{"redis", []string{"redis", "rediss", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel"}, adapt(redisstore.OpenURL), redisstore.URLForms, nil, nil},
	{"bbolt", []string{"bbolt"}, adapt(boltstore.OpenURL), boltstore.URLForms, boltstore.URLPath, nil},
	{"memory", []string{"memory"}, adapt(memstore.OpenURL), memstore.URLForms, nil, nil},
	{"mysql", []string{"mysql"}, adapt(mysqlstore.OpenURL), mysqlstore.URLForms, nil, mysqlstore.SchemaURL},
}

func init() {
	for _, b := range builtin {
		for _, s := range b.schemes {
			register(s, entry{b.name, b.open, b.where})
		}
	}
}

// adapt turns a store package's OpenURL into an Opener.
func adapt[S session.Store](open func(context.Context, string, Options) (S, error)) Opener {
	return func(ctx context.Context, rawURL string, o Options) (session.Store, error) {
		st, err := open(ctx, rawURL, o)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
}

// Options are what a program asks of any store it opens by URL, beside what
// the URL says; they win over the URL. The zero value, which Open uses, asks
// nothing. A tool such as sessionctl asks for no background pruning and no
// creation of a missing store:
//
//	st, err := stores.OpenWith(ctx, url, stores.Options{NoPruning: true, NoCreate: true})
//
// The fields (defined in a package the store packages share, since they
// cannot import this one):
//
//	NoPruning   bool  start no background pruning, whatever prune_interval says
//	NoCreate    bool  create no file, table or bucket; a missing one is an error
//	PruneBatch  int   when positive, replaces prune_batch
//	Conns       int   when positive, a pool the URL does not size holds at least this many
//	Quiet       bool  the client library narrates nothing on a log of its own
//	                  (go-redis's logger is process-wide: this silences it for the process)
type Options = storeurl.Options

// Opener opens a store from rawURL, whose scheme is one it was registered
// for, honouring o as far as the store has what o asks for. It owns what it
// opens: the store's Close must release it. It checks the URL's query
// parameters itself and should refuse one it does not know. Open hides the
// URL's password in its errors, so an Opener need not.
type Opener func(ctx context.Context, rawURL string, o Options) (session.Store, error)

type entry struct {
	backend string
	open    Opener
	where   func(string) (string, error)
}

var (
	mu      sync.RWMutex
	openers = map[string]entry{}
)

// Register makes scheme (compared without regard to case) open stores with
// op. It replaces an earlier registration of the same scheme, so an
// application can substitute its own store for a built-in one. Register
// panics on an empty scheme or a nil op, as these are programming errors
// found at start-up.
func Register(scheme string, op Opener) {
	if scheme == "" || op == nil {
		panic("stores: Register needs a scheme and an Opener")
	}
	register(scheme, entry{backend: strings.ToLower(scheme), open: op})
}

func register(scheme string, e entry) {
	mu.Lock()
	defer mu.Unlock()
	openers[strings.ToLower(scheme)] = e
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

// ErrUnknownScheme is wrapped by Open's error when no store is registered
// for the URL's scheme.
var ErrUnknownScheme = errors.New("stores: unknown scheme")

// Open opens the store that rawURL names, choosing it by the URL's scheme.
// An unknown or missing scheme is an error wrapping ErrUnknownScheme that
// lists the known ones. The password a URL may carry never appears in an
// error, which still unwraps to the store's own (errors.Is, errors.As). The
// caller closes the store (it implements io.Closer) when done. The query
// parameters of each built-in store are documented in its package.
func Open(ctx context.Context, rawURL string) (session.Store, error) {
	return OpenWith(ctx, rawURL, Options{})
}

// OpenWith is Open with what o asks of the store beside its URL.
func OpenWith(ctx context.Context, rawURL string, o Options) (session.Store, error) {
	scheme, _, ok := strings.Cut(rawURL, ":")
	scheme = strings.ToLower(scheme)
	mu.RLock()
	e, found := openers[scheme]
	mu.RUnlock()
	if !ok || scheme == "" || !found {
		shown := scheme
		if !ok {
			shown = ""
		}
		return nil, fmt.Errorf("%w %q in session store URL: known schemes are %s",
			ErrUnknownScheme, shown, strings.Join(Schemes(), ", "))
	}
	st, err := e.open(ctx, rawURL, o)
	if err != nil {
		return nil, redact.Error(err, rawURL)
	}
	return st, nil
}

// Redact returns rawURL with its passwords replaced by "xxxxx", for logs and
// messages: the password of the user information, a password query
// parameter (percent-encoded or not), and the password of a key=value
// connection string. It handles URLs net/url cannot parse, such as a
// redis+cluster or redis+sentinel URL listing several hosts.
func Redact(rawURL string) string { return redact.URL(rawURL) }

// Same reports whether two URLs plainly name one store: the same text, or
// one bbolt file under two spellings. Copying a store onto itself would only
// rewrite it, or wait for its own lock. URLs that differ otherwise may still
// name one server; Same does not ask it.
func Same(a, b string) bool {
	if a == b {
		return true
	}
	sa, _, _ := strings.Cut(a, ":")
	sb, _, _ := strings.Cut(b, ":")
	mu.RLock()
	ea, oka := openers[strings.ToLower(sa)]
	eb, okb := openers[strings.ToLower(sb)]
	mu.RUnlock()
	if !oka || !okb || ea.backend != eb.backend || ea.where == nil {
		return false
	}
	wa, erra := ea.where(a)
	wb, errb := eb.where(b)
	return erra == nil && errb == nil && wa == wb
}

// Schema returns the SQL that creates the table a SQL store's URL names
// (its table and related parameters apply), without connecting, for an
// operator who creates tables by hand. A store that needs no schema (Redis,
// bbolt, memory) or a scheme added with Register gives an error that says
// so; an unknown scheme's error lists the known ones.
func Schema(rawURL string) (string, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return "", fmt.Errorf("stores: %q is not a store URL", redact.URL(rawURL))
	}
	for _, b := range builtin {
		for _, s := range b.schemes {
			if strings.EqualFold(s, scheme) {
				if b.schema == nil {
					return "", fmt.Errorf("stores: the %s store has no schema to create: it makes what it needs as sessions are saved", b.name)
				}
				return b.schema(rawURL)
			}
		}
	}
	return "", fmt.Errorf("stores: no SQL schema for scheme %q; known schemes are %s", scheme, strings.Join(Schemes(), ", "))
}

// Usage describes the URLs Open takes, every form of every built-in store
// with its parameters and their defaults, then any scheme added with
// Register, for a program's help text.
func Usage() string {
	var b strings.Builder
	known := map[string]bool{}
	for _, e := range builtin {
		b.WriteString(e.forms)
		b.WriteString("\n")
		for _, s := range e.schemes {
			known[s] = true
		}
	}
	var more []string
	for _, s := range Schemes() {
		if !known[s] {
			more = append(more, s+"://")
		}
	}
	if len(more) > 0 {
		fmt.Fprintf(&b, "also registered: %s\n", strings.Join(more, ", "))
	}
	return b.String()
}

// Backend returns the name of the store that rawURL's scheme selects among
// the built-in ones ("postgres", "mysql", "redis", "bbolt", "memory"), for
// metrics labels and messages, or the scheme itself for a store added with
// Register.
func Backend(rawURL string) string {
	scheme, _, _ := strings.Cut(rawURL, ":")
	scheme = strings.ToLower(scheme)
	mu.RLock()
	defer mu.RUnlock()
	if e, ok := openers[scheme]; ok {
		return e.backend
	}
	return scheme
}
