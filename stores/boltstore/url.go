package boltstore

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sessionkit/sessionkit/internal/storeurl"
)

// params are the query parameters a bbolt URL takes; any other is refused.
var params = []string{"bucket", "prune_interval", "prune_batch", "open_timeout", "verify", "mode", "on_damage"}

// URLForms describes, for help texts, the URLs OpenURL takes.
const URLForms = `bbolt:///absolute/path/sessions.db[?param=value&…]
bbolt://relative/path/sessions.db   (relative to the working directory)
    parameters: bucket (sessionkit), prune_interval (1m, or off), prune_batch (1000),
    open_timeout (1s), verify (false), mode (0600), on_damage (fail, or reset);
    any other is an error`

// OpenURL opens the file a bbolt URL names, as Open does: bbolt:///abs/path.db
// is absolute, and bbolt://rel/path.db (or bbolt:rel/path.db) is relative to
// the working directory. Percent-escapes in the path are decoded. The query
// parameters set the Options of the same meaning, and any other is an error:
//
//	bucket          Bucket (default sessionkit)
//	prune_interval  PruneInterval, a duration or "off" (default 1m)
//	prune_batch     PruneBatch (default 1000)
//	open_timeout    OpenTimeout, a duration or "off" to try once (default 1s)
//	verify          Verify, a boolean (default false)
//	mode            FileMode, octal (default 0600)
//	on_damage       OnDamage: fail (DamageFail, the default) or reset (DamageReset)
//
// o is what any program may ask of a store it opens by URL (see
// stores.Options); package stores calls OpenURL for the bbolt scheme. With
// o.NoCreate a missing file or bucket is an error (see Options.NoCreate).
func OpenURL(ctx context.Context, rawURL string, o storeurl.Options) (*Store, error) {
	path, err := URLPath(rawURL)
	if err != nil {
		return nil, err
	}
	p, err := storeurl.Only("bbolt", rawURL, params...)
	if err != nil {
		return nil, err
	}
	var opts Options
	p.String("bucket", &opts.Bucket)
	p.Duration("prune_interval", &opts.PruneInterval, -1)
	p.Positive("prune_batch", &opts.PruneBatch)
	p.Duration("open_timeout", &opts.OpenTimeout, -1)
	p.Bool("verify", &opts.Verify)
	if s, ok := p.Last("mode"); ok {
		m, err := strconv.ParseUint(s, 8, 32)
		if err != nil || m > 0o777 {
			p.Fail("mode", s, "an octal permission such as 0600")
		}
		opts.FileMode = os.FileMode(m)
	}
	if s, ok := p.Last("on_damage"); ok {
		switch strings.ToLower(s) {
		case "fail":
			opts.OnDamage = DamageFail
		case "reset":
			opts.OnDamage = DamageReset
		default:
			p.Fail("on_damage", s, "fail or reset")
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if o.NoPruning {
		opts.PruneInterval = -1
	}
	if o.PruneBatch > 0 {
		opts.PruneBatch = o.PruneBatch
	}
	opts.NoCreate = o.NoCreate
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return Open(path, opts)
}

// URLPath returns the file a bbolt URL names (see OpenURL), made absolute,
// so that two spellings of one file compare equal.
func URLPath(rawURL string) (string, error) {
	scheme, rest, _ := strings.Cut(rawURL, ":")
	if !strings.EqualFold(scheme, "bbolt") {
		return "", fmt.Errorf("bbolt: not a bbolt URL: want bbolt:///absolute/path.db or bbolt://relative/path.db")
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
