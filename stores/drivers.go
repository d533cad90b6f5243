package stores

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/boltstore"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/pgstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

func init() {
	Register("postgres", openPostgres)
	Register("postgresql", openPostgres)
	for _, s := range []string{"redis", "rediss", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel"} {
		Register(s, openRedis)
	}
	Register("bbolt", openBbolt)
	Register("memory", openMemory)
}

// params are the query parameters a driver takes for itself, split off the
// URL before the rest goes to the client library.
type params struct {
	driver string
	v      url.Values
	err    error
}

// splitParams removes the keys from rawURL's query and returns the URL
// without them. It works on the text of the URL, so a URL net/url cannot
// parse (a Cluster's comma-separated hosts) keeps its shape.
func splitParams(driver, rawURL string, keys ...string) (string, *params, error) {
	base, query, hasQuery := strings.Cut(rawURL, "?")
	frag := ""
	if hasQuery {
		query, frag, _ = strings.Cut(query, "#")
	}
	p := &params{driver: driver, v: url.Values{}}
	if !hasQuery || query == "" {
		return base, p, nil
	}
	all, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, fmt.Errorf("%s: malformed query in store URL: %w", driver, err)
	}
	for _, k := range keys {
		if v, ok := all[k]; ok {
			p.v[k] = v
			delete(all, k)
		}
	}
	out := base
	if rest := all.Encode(); rest != "" {
		out += "?" + rest
	}
	if frag != "" {
		out += "#" + frag
	}
	return out, p, nil
}

// only fails when the query holds a key other than keys, for drivers whose
// client takes no parameters of its own.
func only(driver, rawURL string, keys ...string) error {
	_, query, ok := strings.Cut(rawURL, "?")
	if !ok {
		return nil
	}
	query, _, _ = strings.Cut(query, "#")
	v, err := url.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("%s: malformed query in store URL: %w", driver, err)
	}
	for k := range v {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("%s: unknown URL parameter %q (known: %s)", driver, k, strings.Join(keys, ", "))
		}
	}
	return nil
}

func (p *params) last(k string) (string, bool) {
	v, ok := p.v[k]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

func (p *params) str(k string, dst *string) {
	if s, ok := p.last(k); ok {
		*dst = s
	}
}

func (p *params) fail(k, s, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: URL parameter %s=%q is not %s", p.driver, k, s, want)
	}
}

func (p *params) boolean(k string, dst *bool) {
	if s, ok := p.last(k); ok {
		b, err := strconv.ParseBool(s)
		if err != nil {
			p.fail(k, s, "a boolean")
			return
		}
		*dst = b
	}
}

func (p *params) integer(k string, dst *int) {
	if s, ok := p.last(k); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			p.fail(k, s, "a positive integer")
			return
		}
		*dst = n
	}
}

// duration reads a time.ParseDuration value; "off" gives off, the
// driver's value for "disabled".
func (p *params) duration(k string, dst *time.Duration, off time.Duration) {
	if s, ok := p.last(k); ok {
		if strings.EqualFold(s, "off") {
			*dst = off
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			p.fail(k, s, `a duration such as "90s" or "off"`)
			return
		}
		*dst = d
	}
}

var postgresParams = []string{"prune_interval", "prune_batch", "user_key", "user_index"}

// openPostgres leaves table, schema and create_table to pgstore.Open,
// which reads them itself.
func openPostgres(ctx context.Context, rawURL string) (session.Store, error) {
	rest, p, err := splitParams("postgres", rawURL, postgresParams...)
	if err != nil {
		return nil, err
	}
	var o pgstore.Options
	p.duration("prune_interval", &o.PruneInterval, -1)
	p.integer("prune_batch", &o.PruneBatch)
	p.str("user_key", &o.UserKey)
	p.boolean("user_index", &o.UserIndex)
	if p.err != nil {
		return nil, p.err
	}
	return pgstore.Open(ctx, rest, o)
}

var redisParams = []string{"prefix", "user_prefix", "scan_count", "user_index"}

func openRedis(ctx context.Context, rawURL string) (session.Store, error) {
	rest, p, err := splitParams("redis", rawURL, redisParams...)
	if err != nil {
		return nil, err
	}
	var o redisstore.Options
	p.str("prefix", &o.Prefix)
	p.str("user_prefix", &o.UserPrefix)
	var n int
	p.integer("scan_count", &n)
	o.ScanCount = int64(n)
	index := true
	p.boolean("user_index", &index)
	o.NoUserIndex = !index
	if p.err != nil {
		return nil, p.err
	}
	return redisstore.Open(ctx, rest, o)
}

var bboltParams = []string{"bucket", "prune_interval", "prune_batch", "open_timeout", "verify", "mode"}

func openBbolt(ctx context.Context, rawURL string) (session.Store, error) {
	path, err := BboltPath(rawURL)
	if err != nil {
		return nil, err
	}
	if err := only("bbolt", rawURL, bboltParams...); err != nil {
		return nil, err
	}
	_, p, err := splitParams("bbolt", rawURL, bboltParams...)
	if err != nil {
		return nil, err
	}
	var o boltstore.Options
	p.str("bucket", &o.Bucket)
	p.duration("prune_interval", &o.PruneInterval, -1)
	p.integer("prune_batch", &o.PruneBatch)
	p.duration("open_timeout", &o.OpenTimeout, -1)
	p.boolean("verify", &o.Verify)
	if s, ok := p.last("mode"); ok {
		m, err := strconv.ParseUint(s, 8, 32)
		if err != nil || m > 0o777 {
			p.fail("mode", s, "an octal permission such as 0600")
		}
		o.FileMode = os.FileMode(m)
	}
	if p.err != nil {
		return nil, p.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return boltstore.Open(path, o)
}

// BboltPath returns the file a bbolt URL names: bbolt:///abs/path.db is
// absolute, and bbolt://rel/path.db (or bbolt:rel/path.db) is relative to the
// working directory, returned made absolute. Percent-escapes are decoded.
func BboltPath(rawURL string) (string, error) {
	scheme, rest, _ := strings.Cut(rawURL, ":")
	if !strings.EqualFold(scheme, "bbolt") {
		return "", fmt.Errorf("bbolt: not a bbolt URL")
	}
	rest = strings.TrimPrefix(rest, "//")
	rest, _, _ = strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, "#")
	path, err := url.PathUnescape(rest)
	if err != nil {
		return "", fmt.Errorf("bbolt: bad escape in file path %q: %w", rest, err)
	}
	if path == "" || strings.HasSuffix(path, "/") {
		return "", fmt.Errorf("bbolt: the URL names no file: want bbolt:///absolute/path.db or bbolt://relative/path.db")
	}
	abs, err := filepath.Abs(filepath.FromSlash(path))
	if err != nil {
		return "", fmt.Errorf("bbolt: %w", err)
	}
	return abs, nil
}

func openMemory(ctx context.Context, rawURL string) (session.Store, error) {
	if err := only("memory", rawURL, "prune_interval"); err != nil {
		return nil, err
	}
	_, p, err := splitParams("memory", rawURL, "prune_interval")
	if err != nil {
		return nil, err
	}
	var opts []memstore.Option
	if _, ok := p.last("prune_interval"); ok {
		d := time.Minute
		p.duration("prune_interval", &d, 0)
		opts = append(opts, memstore.WithPruneInterval(d))
	}
	if p.err != nil {
		return nil, p.err
	}
	return memstore.New(opts...), nil
}

// Backend returns the name of the driver that rawURL's scheme selects among
// the built-in ones ("postgres", "redis", "bbolt", "memory"), for metrics
// labels and logs, or the scheme itself for another registered driver.
func Backend(rawURL string) string {
	scheme, _, _ := strings.Cut(rawURL, ":")
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "postgres", "postgresql":
		return "postgres"
	case "redis", "rediss", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel":
		return "redis"
	}
	return scheme
}
