package middleware

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// sigLen is the length of an express-session signature: 32 HMAC-SHA256
// bytes in unpadded standard base64.
const sigLen = 43

// Sign returns the cookie value express-session would send for id signed
// with secret: "s:" + id + "." + base64(HMAC-SHA256(secret, id)) without
// '=' padding, URL-encoded. Secret "keyboard cat" and id "abc" give
// "s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU".
//
// An ID containing a space has it written as %20 rather than the '+' of
// url.QueryEscape, which express-session would read back as a '+'.
//
// Sign accepts any secret, including short ones, so that test vectors and
// tools can use it; New refuses to sign with a secret under 32 bytes.
func Sign(id, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id))
	return encodeValue(id, mac.Sum(nil))
}

// encodeValue builds the URL-encoded cookie value for id and its MAC.
func encodeValue(id string, mac []byte) string {
	v := url.QueryEscape("s:" + id + "." + base64.RawStdEncoding.EncodeToString(mac))
	// QueryEscape writes a space as '+', which express's decodeURIComponent
	// (and our PathUnescape) would read back as a '+': spell it %20 so that
	// an ID containing a space survives the round trip.
	return strings.ReplaceAll(v, "+", "%20")
}

// Verify checks a signed cookie value as received (URL-encoded or not) and
// returns the session ID it carries. The value must be "s:" + id + "." +
// signature, the signature matching one of secrets (compared in constant
// time); the ID is everything between "s:" and the last '.', so an ID may
// itself contain dots. Unsigned, badly signed or malformed values and empty
// IDs return ok == false. The value is percent-decoded only when it contains
// a '%', so a raw '+' is kept as is; a value that does not decode is checked
// as it is, as express-session does.
func Verify(value string, secrets []string) (id string, ok bool) {
	b, _ := decodeValue(nil, value)
	rawID, sig, ok := splitValue(b)
	if !ok {
		return "", false
	}
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(rawID)
		if sigMatches(sig, mac.Sum(nil)) {
			return string(rawID), true
		}
	}
	return "", false
}

// decodeValue appends the received cookie value to buf, percent-decoded when
// it holds a '%' and every escape in it is valid (url.PathUnescape's rule,
// which leaves '+' alone), and reports whether it decoded. It replaces
// url.PathUnescape, which costs more than the HMAC on this path.
func decodeValue(buf []byte, value string) ([]byte, bool) {
	if strings.IndexByte(value, '%') < 0 {
		return append(buf, value...), false
	}
	start := len(buf)
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c == '%' {
			if i+2 >= len(value) || !isHex(value[i+1]) || !isHex(value[i+2]) {
				// Checked as received, as express-session does when
				// decodeURIComponent throws.
				return append(buf[:start], value...), false
			}
			c = unhex(value[i+1])<<4 | unhex(value[i+2])
			i += 2
		}
		buf = append(buf, c)
	}
	return buf, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// splitValue splits a decoded cookie value into the ID and the signature
// text, without checking the signature.
func splitValue(v []byte) (id, sig []byte, ok bool) {
	if len(v) < 2 || v[0] != 's' || v[1] != ':' {
		return nil, nil, false
	}
	rest := v[2:]
	dot := bytes.LastIndexByte(rest, '.')
	if dot <= 0 || len(rest)-dot-1 != sigLen {
		return nil, nil, false
	}
	return rest[:dot], rest[dot+1:], true
}

// sigMatches compares the signature text sig with the encoding of mac in
// constant time.
func sigMatches(sig, mac []byte) bool {
	var want [sigLen]byte
	if len(sig) != sigLen || len(mac) != sha256.Size {
		return false
	}
	base64.RawStdEncoding.Encode(want[:], mac)
	return hmac.Equal(sig, want[:])
}

// keyring signs with the first secret and verifies against all of them,
// reusing keyed HMAC states so that verifying a cookie does not allocate.
type keyring struct {
	keys []*macPool
}

type macPool struct {
	key  []byte
	pool sync.Pool // of *macState
}

type macState struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

func newKeyring(secrets []string) *keyring {
	kr := &keyring{}
	for _, s := range secrets {
		p := &macPool{key: []byte(s)}
		p.pool.New = func() any { return &macState{h: hmac.New(sha256.New, p.key)} }
		kr.keys = append(kr.keys, p)
	}
	return kr
}

// sum returns HMAC-SHA256(key, id).
func (p *macPool) sum(id []byte) [sha256.Size]byte {
	st := p.pool.Get().(*macState)
	st.h.Reset()
	// Copying into a pooled buffer avoids the allocation that passing id,
	// often on the caller's stack, to an interface method would cause.
	st.buf = append(st.buf[:0], id...)
	st.h.Write(st.buf)
	st.h.Sum(st.sum[:0])
	out := st.sum
	if cap(st.buf) > 512 {
		st.buf = nil
	}
	p.pool.Put(st)
	return out
}

// verify is Verify with the keyring's secrets. It allocates only the ID
// of a cookie that verifies, and nothing when the value needed no decoding.
func (kr *keyring) verify(value string) (string, bool) {
	var buf [256]byte
	b, decoded := decodeValue(buf[:0], value)
	id, sig, ok := splitValue(b)
	if !ok {
		return "", false
	}
	for _, p := range kr.keys {
		mac := p.sum(id)
		if sigMatches(sig, mac[:]) {
			if !decoded {
				return value[2 : 2+len(id)], true
			}
			return string(id), true
		}
	}
	return "", false
}

// sign is Sign with the keyring's first secret.
func (kr *keyring) sign(id string) string {
	var buf [128]byte
	mac := kr.keys[0].sum(append(buf[:0], id...))
	return encodeValue(id, mac[:])
}

// readCookie returns the value of the first cookie called name in the
// request's Cookie headers, in the order they were received, with one pair
// of surrounding double quotes removed. Pairs without '=' are skipped.
func readCookie(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(part, "=")
			if !ok || trimOWS(k) != name {
				continue
			}
			v = trimOWS(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// trimOWS trims the spaces and tabs a Cookie header may carry around names
// and values.
func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

// cookieSpec is the cookie configuration, checked and rendered once.
type cookieSpec struct {
	name string
	// attrs is the attribute text shared by set and clear, without Secure
	// (which may depend on the request) and without Expires.
	attrs  string
	secure bool
	tail   string // attributes written after Secure
}

func newCookieSpec(o session.CookieOptions) cookieSpec {
	var b strings.Builder
	b.WriteString("; Path=")
	b.WriteString(o.Path)
	if o.Domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(o.Domain)
	}
	var t strings.Builder
	if !o.ScriptAccessible {
		t.WriteString("; HttpOnly")
	}
	switch o.SameSite {
	case session.SameSiteLax:
		t.WriteString("; SameSite=Lax")
	case session.SameSiteStrict:
		t.WriteString("; SameSite=Strict")
	case session.SameSiteNone:
		t.WriteString("; SameSite=None")
	}
	if o.Partitioned {
		t.WriteString("; Partitioned")
	}
	switch o.Priority {
	case session.PriorityLow:
		t.WriteString("; Priority=Low")
	case session.PriorityMedium:
		t.WriteString("; Priority=Medium")
	case session.PriorityHigh:
		t.WriteString("; Priority=High")
	}
	return cookieSpec{
		name:   o.Name,
		attrs:  b.String(),
		secure: o.Secure,
		tail:   t.String(),
	}
}

// setCookie renders the Set-Cookie header that stores value until exp, or
// until the browser closes when browser is set. Only Expires is written, as
// express-session does; Max-Age is left out.
func (c *cookieSpec) setCookie(value string, exp time.Time, browser, secure bool) string {
	var b strings.Builder
	b.Grow(len(c.name) + len(value) + len(c.attrs) + len(c.tail) + 48)
	b.WriteString(c.name)
	b.WriteByte('=')
	b.WriteString(value)
	b.WriteString(c.attrs)
	if !browser {
		b.WriteString("; Expires=")
		var buf [len(http.TimeFormat)]byte
		b.Write(exp.UTC().AppendFormat(buf[:0], http.TimeFormat))
	}
	if secure {
		b.WriteString("; Secure")
	}
	b.WriteString(c.tail)
	return b.String()
}

// clearCookie renders the Set-Cookie header that removes the cookie. It
// keeps every attribute of the cookie it replaces: browsers match Path and
// Domain, and refuse a Partitioned, __Host- or SameSite=None cookie without
// Secure.
func (c *cookieSpec) clearCookie(secure bool) string {
	s := c.name + "=" + c.attrs + "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
	if secure {
		s += "; Secure"
	}
	return s + c.tail
}
