// Package redact hides the passwords a store URL or connection string
// carries, in the URL itself and in errors that may repeat it. Every store
// package and the stores registry use it, so a password is hidden the same
// way whichever of them reports the error.
//
// A password is found in three places: the user information of a URL
// (postgres://user:pw@host), a query parameter whose name contains
// "password" (?password=…, &sentinel_password=…), and a key=value
// connection string (host=db password=… or password='a b'). It is hidden in
// every spelling it may take in a message: as written, percent-decoded, and
// re-encoded for a query or a path.
package redact

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// Mask replaces a password.
const Mask = "xxxxx"

// URL returns raw with every password it carries replaced by Mask. It
// handles text net/url cannot parse, such as a URL listing several hosts.
func URL(raw string) string {
	return hide(raw, spellings(raw))
}

// Error returns err with every password that raw carries hidden in its
// message. The result unwraps to err, so errors.Is and errors.As see err's
// whole chain. Error returns err itself when it is nil or raw carries no
// password.
func Error(err error, raw string) error {
	if err == nil {
		return nil
	}
	sp := spellings(raw)
	if len(sp) == 0 {
		return err
	}
	return &redacted{err: err, spellings: sp}
}

type redacted struct {
	err       error
	spellings []string
}

func (e *redacted) Error() string { return hide(e.err.Error(), e.spellings) }
func (e *redacted) Unwrap() error { return e.err }

// hide replaces each spelling in s; spellings come longest first, so one
// that contains another is hidden whole.
func hide(s string, spellings []string) string {
	for _, p := range spellings {
		s = strings.ReplaceAll(s, p, Mask)
	}
	return s
}

// spellings returns every way the passwords of raw may be written,
// longest first.
func spellings(raw string) []string {
	var out []string
	for _, pw := range passwords(raw) {
		if pw == "" {
			continue
		}
		out = append(out, pw)
		for _, un := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
			if u, err := un(pw); err == nil && u != "" {
				out = append(out, u, url.QueryEscape(u), url.PathEscape(u))
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return slices.Compact(out)
}

// passwords returns the passwords of raw as written there.
func passwords(raw string) []string {
	var pws []string
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		host := rest
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			if _, pw, ok := strings.Cut(host[:at], ":"); ok {
				pws = append(pws, pw)
			}
		}
		if _, q, ok := strings.Cut(rest, "?"); ok {
			q, _, _ = strings.Cut(q, "#")
			for kv := range strings.SplitSeq(q, "&") {
				k, v, _ := strings.Cut(kv, "=")
				if k, err := url.QueryUnescape(k); err == nil && isPasswordKey(k) {
					pws = append(pws, v)
				}
			}
		}
		return pws
	}
	return keyValuePasswords(raw)
}

func isPasswordKey(k string) bool {
	return strings.Contains(strings.ToLower(k), "password")
}

// keyValuePasswords reads the password values of a libpq key=value
// connection string: key = value pairs separated by spaces, a value either
// bare or in single quotes with backslash escapes.
func keyValuePasswords(s string) []string {
	var pws []string
	for s != "" {
		s = strings.TrimLeft(s, " \t\n\r")
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t\n\r")
		var val string
		if strings.HasPrefix(s, "'") {
			// The value as written between the quotes, escapes and all,
			// and unescaped: a message may show either.
			end := 1
			var b strings.Builder
			for end < len(s) && s[end] != '\'' {
				if s[end] == '\\' && end+1 < len(s) {
					end++
				}
				b.WriteByte(s[end])
				end++
			}
			val = s[1:end]
			if isPasswordKey(key) && b.String() != val {
				pws = append(pws, b.String())
			}
			s = s[min(end+1, len(s)):]
		} else {
			end := strings.IndexAny(s, " \t\n\r")
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		if isPasswordKey(key) {
			pws = append(pws, val)
		}
	}
	return pws
}
