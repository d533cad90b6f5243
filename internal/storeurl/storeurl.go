// Package storeurl holds what the store packages share to open themselves
// from a URL: the Options a program asks of any store (package stores
// re-exports them as stores.Options), and a reader of query parameters that
// gives every store the same parsing and the same error messages. Which
// parameters a store takes, and what they mean, stays in the store.
package storeurl

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options are what a program asks of any store it opens by URL, beside what
// the URL says; they win over the URL. The zero value asks nothing: the
// store does what its URL says, as an application's server wants.
type Options struct {
	// NoPruning starts no background pruning, whatever the URL's
	// prune_interval says: the caller prunes when it chooses (a Pruner) or
	// not at all. For tools that must change nothing they were not asked to.
	NoPruning bool

	// NoCreate opens only a store that already exists: no file, table or
	// bucket is created, whatever the URL says, and a missing one is an
	// error that names it. For tools that inspect or repair a store an
	// application owns, where a typing mistake must not make a new, empty
	// store.
	NoCreate bool

	// PruneBatch, when positive, is the most records one prune
	// transaction deletes, replacing the URL's prune_batch.
	PruneBatch int

	// Conns, when positive, is how many operations the caller runs at once.
	// A store with a connection pool that its URL does not size makes the
	// pool at least this large, so that the caller's workers do not wait
	// for connections.
	Conns int

	// Quiet asks the store's client library not to narrate its work on a
	// log of its own: a command-line tool reports what matters itself.
	// go-redis logs Sentinel lookups and pool redials on one logger for the
	// whole process, so for redisstore Quiet silences it for every client
	// in the process, from the first store opened with it on.
	Quiet bool
}

// Params are the query parameters a store takes for itself. Each getter
// sets its destination only when the parameter is present (the last value
// wins when it is repeated) and records the first malformed value, which Err
// returns.
type Params struct {
	store string
	v     url.Values
	err   error
}

// Split removes the parameters keys from rawURL's query and returns the URL
// without them, for the store's client library, and the parameters removed.
// It works on the text of the URL, so a URL net/url cannot parse (several
// comma-separated hosts) keeps its shape. store names the store in errors.
func Split(store, rawURL string, keys ...string) (rest string, p *Params, err error) {
	base, query, hasQuery := strings.Cut(rawURL, "?")
	frag := ""
	if hasQuery {
		query, frag, _ = strings.Cut(query, "#")
	}
	p = &Params{store: store, v: url.Values{}}
	if !hasQuery || query == "" {
		return rawURL, p, nil
	}
	all, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, fmt.Errorf("%s: malformed query in store URL: %w", store, err)
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

// Only splits off keys as Split does and fails when the query holds any
// other parameter, for a store whose client library takes none of its own.
func Only(store, rawURL string, keys ...string) (*Params, error) {
	rest, p, err := Split(store, rawURL, keys...)
	if err != nil {
		return nil, err
	}
	_, query, _ := strings.Cut(rest, "?")
	query, _, _ = strings.Cut(query, "#")
	left, _ := url.ParseQuery(query)
	if len(left) > 0 {
		k := slices.Sorted(maps.Keys(left))[0]
		return nil, fmt.Errorf("%s: unknown URL parameter %q (known: %s)", store, k, strings.Join(keys, ", "))
	}
	return p, nil
}

// Err returns the first malformed value a getter met.
func (p *Params) Err() error { return p.err }

// Has reports whether the parameter k was given.
func (p *Params) Has(k string) bool { return len(p.v[k]) > 0 }

// Last returns the last value of k.
func (p *Params) Last(k string) (string, bool) {
	v := p.v[k]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// Fail records that k=s is not what the store wants.
func (p *Params) Fail(k, s, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: URL parameter %s=%q is not %s", p.store, k, s, want)
	}
}

// String reads a text parameter.
func (p *Params) String(k string, dst *string) {
	if s, ok := p.Last(k); ok {
		*dst = s
	}
}

// Bool reads a strconv.ParseBool parameter.
func (p *Params) Bool(k string, dst *bool) {
	if s, ok := p.Last(k); ok {
		b, err := strconv.ParseBool(s)
		if err != nil {
			p.Fail(k, s, "a boolean")
			return
		}
		*dst = b
	}
}

// Positive reads a positive integer parameter.
func (p *Params) Positive(k string, dst *int) {
	if s, ok := p.Last(k); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			p.Fail(k, s, "a positive integer")
			return
		}
		*dst = n
	}
}

// Duration reads a time.ParseDuration parameter; "off" sets off, the
// store's value for "disabled".
func (p *Params) Duration(k string, dst *time.Duration, off time.Duration) {
	if s, ok := p.Last(k); ok {
		if strings.EqualFold(s, "off") {
			*dst = off
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			p.Fail(k, s, `a duration such as "90s" or "off"`)
			return
		}
		*dst = d
	}
}
