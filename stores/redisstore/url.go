package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/internal/redact"
	"github.com/sessionkit/sessionkit/internal/storeurl"
)

// URLForms describes, for help texts, the URLs Open takes.
const URLForms = `redis://[user:password@]host[:port][/db][?param=value&…]       one node
rediss://…                                                      the same over TLS
redis+cluster://[user:password@]host1:port,host2:port[,…][/]    a Redis Cluster
rediss+cluster://…                                              (or redis://host1:port?addr=host2:port&…)
redis+sentinel://[user:password@]sentinel1:port,sentinel2:port[,…][/db]?master_name=NAME
rediss+sentinel://…                                             the master the Sentinels know as NAME;
                                                                the URL's password is the Sentinels',
                                                                the master's goes in password=
    store parameters: prefix (sess:), user_prefix (sess-user:), scan_count (1000),
    user_index (true; false keeps no per-user sets); the others go to go-redis (dial_timeout, pool_size, db, …), which refuses unknown ones`

// Open connects to the Redis that rawURL names, checks it with Ping and
// returns a Store that owns the client: Close closes it. The accepted forms:
//
//	redis://[user:password@]host[:port][/db][?option=value…]
//	rediss://…                                   (the same over TLS)
//	redis://[user:password@]host:port?addr=host2:port&addr=host3:port[&…]
//	redis+cluster://[user:password@]host1:port,host2:port[,…][/][?option=value…]
//	rediss+cluster://…                           (the same over TLS)
//	redis+sentinel://[user:password@]sentinel1:port,sentinel2:port[,…][/db]?master_name=NAME[&…]
//	rediss+sentinel://…                          (the same over TLS)
//	redis://sentinel1:port?master_name=NAME&addr=sentinel2:port[&…]
//
// The first two open a single node, with go-redis's ParseURL options (db,
// dial_timeout, pool_size, …). A redis:// or rediss:// URL with one or more
// addr parameters is go-redis's ParseClusterURL form and opens a Cluster
// client seeded with every address listed; so does the +cluster form, which
// lists the seeds comma-separated in the host and takes the same query
// options as ParseClusterURL. A Cluster has only database 0, so a +cluster
// URL with a database number other than 0 is refused. The default port is
// 6379.
//
// The +sentinel form, and a redis:// or rediss:// URL with a master_name
// parameter (go-redis's ParseFailoverURL form), open a failover client: it
// asks the Sentinels listed for the address of the master named master_name
// and follows it through a failover. As in go-redis, the user and password
// in the URL are the Sentinels'; the master's go in the username and
// password parameters. The default port is 6379 here too, so name the
// Sentinels' ports (usually 26379).
//
// The store's own query parameters are removed before the rest goes to
// go-redis, which refuses any it does not know:
//
//	prefix       Options.Prefix (default "sess:")
//	user_prefix  Options.UserPrefix (default "sess-user:")
//	scan_count   Options.ScanCount (default 1000)
//	user_index   false sets Options.NoUserIndex (default true)
//
// They override opts. Open enables go-redis's ContextTimeoutEnabled, so a
// context's deadline also ends the wait for a reply the store's caller no
// longer waits for (see New). Errors never contain a password, and keep
// go-redis's errors for errors.Is and errors.As.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	rest, p, err := storeurl.Split("redis", rawURL, "prefix", "user_prefix", "scan_count", "user_index")
	if err != nil {
		return nil, redact.Error(err, rawURL)
	}
	p.String("prefix", &opts.Prefix)
	p.String("user_prefix", &opts.UserPrefix)
	if _, ok := p.Last("scan_count"); ok {
		var n int
		p.Positive("scan_count", &n)
		opts.ScanCount = int64(n)
	}
	if p.Has("user_index") {
		index := true
		p.Bool("user_index", &index)
		opts.NoUserIndex = !index
	}
	if err := p.Err(); err != nil {
		return nil, redact.Error(err, rawURL)
	}
	client, master, err := newClient(rest)
	if err != nil {
		return nil, redact.Error(fmt.Errorf("redis: open: %w", err), rawURL)
	}
	s, err := New(client, opts)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	s.owned = true
	s.master = master
	if err := s.Ping(ctx); err != nil {
		_ = client.Close()
		return nil, redact.Error(fmt.Errorf("redis: open: %w", err), rawURL)
	}
	return s, nil
}

// OpenURL is Open with default Options, for package stores, which calls it
// for the redis, rediss, redis+cluster, rediss+cluster, redis+sentinel and
// rediss+sentinel schemes. Of what o asks (see stores.Options) only Quiet
// applies: Redis creates nothing up front and expires keys itself, and
// go-redis sizes its pool at ten connections per CPU.
func OpenURL(ctx context.Context, rawURL string, o storeurl.Options) (*Store, error) {
	if o.Quiet {
		redis.SetLogger(quiet{})
	}
	return Open(ctx, rawURL, Options{})
}

// quiet discards go-redis's narration.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// newClient builds, without connecting, the client rawURL describes.
// master is the name a failover client asks the Sentinels for, or "".
func newClient(rawURL string) (c redis.UniversalClient, master string, err error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, "", errors.New("missing scheme: want " + schemes)
	}
	switch strings.ToLower(scheme) {
	case "redis", "rediss":
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, "", unwrapURLError(err)
		}
		if u.Query().Has("master_name") {
			return failoverClient(rawURL)
		}
		if u.Query().Has("addr") {
			return clusterClient(rawURL)
		}
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, "", unwrapURLError(err)
		}
		o.ContextTimeoutEnabled = true
		return redis.NewClient(o), "", nil
	case "redis+cluster", "rediss+cluster":
		u, err := multiHostURL(strings.TrimSuffix(strings.ToLower(scheme), "+cluster"), rest, "cluster", false)
		if err != nil {
			return nil, "", err
		}
		return clusterClient(u)
	case "redis+sentinel", "rediss+sentinel":
		return failoverClient(rawURL)
	default:
		return nil, "", fmt.Errorf("unknown scheme %q: want %s", scheme, schemes)
	}
}

const schemes = "redis://, rediss://, redis+cluster://, rediss+cluster://, redis+sentinel:// or rediss+sentinel://"

// failoverClient builds the Sentinel-backed client of a sentinel URL.
// clusterClient builds a Cluster client from a go-redis cluster URL (seed
// nodes as addr parameters).
func clusterClient(rawURL string) (redis.UniversalClient, string, error) {
	o, err := redis.ParseClusterURL(rawURL)
	if err != nil {
		return nil, "", unwrapURLError(err)
	}
	o.ContextTimeoutEnabled = true
	return redis.NewClusterClient(o), "", nil
}

func failoverClient(rawURL string) (redis.UniversalClient, string, error) {
	o, err := sentinelOptions(rawURL)
	if err != nil {
		return nil, "", err
	}
	return redis.NewFailoverClient(o), o.MasterName, nil
}

// sentinelOptions parses a sentinel URL in either form: +sentinel, or
// go-redis's ParseFailoverURL form.
func sentinelOptions(rawURL string) (*redis.FailoverOptions, error) {
	if scheme, rest, ok := strings.Cut(rawURL, "://"); ok && strings.HasSuffix(strings.ToLower(scheme), "+sentinel") {
		u, err := multiHostURL(strings.TrimSuffix(strings.ToLower(scheme), "+sentinel"), rest, "sentinel", true)
		if err != nil {
			return nil, err
		}
		rawURL = u
	}
	o, err := redis.ParseFailoverURL(rawURL)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	if o.MasterName == "" {
		return nil, errors.New("a sentinel URL needs master_name, the name the Sentinels monitor the master by")
	}
	o.ContextTimeoutEnabled = true
	return o, nil
}

// multiHostURL rewrites the body of a +cluster or +sentinel URL (after
// "://") into go-redis's one-host form: the first address as the host, the
// others as addr parameters. what names the addresses in errors; a database
// number other than 0 is refused unless withDB.
func multiHostURL(scheme, rest, what string, withDB bool) (string, error) {
	rest, query, _ := strings.Cut(rest, "?")
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query = query[:i]
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	hosts, path, _ := strings.Cut(rest, "/")
	if path != "" && path != "0" && !withDB {
		return "", errors.New("redis cluster has only database 0")
	}
	var userinfo string
	if i := strings.LastIndexByte(hosts, '@'); i >= 0 {
		userinfo, hosts = hosts[:i+1], hosts[i+1:]
	}
	var seeds []string
	for h := range strings.SplitSeq(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			seeds = append(seeds, h)
		}
	}
	if len(seeds) == 0 {
		return "", fmt.Errorf("no %s addresses", what)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("bad query: %w", err)
	}
	for _, h := range seeds[1:] {
		q.Add("addr", h)
	}
	u := scheme + "://" + userinfo + seeds[0]
	if withDB && path != "" {
		u += "/" + path
	}
	if enc := q.Encode(); enc != "" {
		u += "?" + enc
	}
	return u, nil
}

// unwrapURLError drops the URL that net/url puts in its errors: it may hold
// the password.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
