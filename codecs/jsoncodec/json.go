// Package jsoncodec is the session codec that writes the document express-session
// stores: {"cookie":{…},"user":…}. It is the usual choice for
// session.Config.Codec (which is required: the Manager has no default codec),
// and the one a PostgreSQL store sharing its table with a Node application
// needs.
//
// Encode writes what JSON.stringify writes for a Node session: the cookie
// object first, with express-session's field order, and unicode and HTML
// characters unescaped. The values follow in sorted key order, so one State
// always encodes to the same bytes. A browser-session cookie is written, as
// express-session writes it, with "originalMaxAge":null and "expires":null.
// Go values are marshalled by encoding/json, so maps inside them come out
// with sorted keys rather than in insertion order, and a float64 negative
// zero is written as -0 where JavaScript writes 0.
//
// The Manager's own metadata (State.Created and State.Deadline) is kept in
// the top-level key "__sessionkit" as {"created":<unix ms>,"deadline":<unix
// ms>}; a Node application sees it as one more session value and saves it
// back untouched. Times in the document have millisecond precision, as a
// JavaScript Date has.
//
// Decode leaves every value as a Raw holding its JSON text, read with a type
// only when the application asks for it, and Encode writes a Raw back byte
// for byte: numbers beyond float64 precision and keys of objects in their
// Node order survive a request that did not change them.
package jsoncodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/session"
)

// MetaKey is the top-level key that holds the session's metadata.
const MetaKey = "__sessionkit"

// ErrMalformed reports a document that Decode cannot read. The errors Decode
// returns wrap it and never quote the document.
var ErrMalformed = errors.New("json: malformed session document")

// maxMillis bounds the instants written and read, to the range a JavaScript
// Date can hold (±100,000,000 days around 1970).
const maxMillis = 8.64e15

// Codec is the express-session compatible JSON codec. The zero Codec is ready
// to use and safe for concurrent use.
type Codec struct{}

// New returns a Codec.
func New() *Codec { return &Codec{} }

var (
	_ session.Codec      = (*Codec)(nil)
	_ session.KeyChecker = (*Codec)(nil)
)

// Name returns "json".
func (*Codec) Name() string { return "json" }

// Encode writes st as an express-session document. Values must not use the
// keys "cookie" or MetaKey (the error wraps session.ErrReserved). A Raw from
// another codec is read into an any and marshalled; one that cannot be read
// so is an error.
func (*Codec) Encode(st *session.State) ([]byte, error) {
	if st == nil {
		return nil, errors.New("json: Encode of a nil State")
	}
	keys := make([]string, 0, len(st.Values)+1)
	for k := range st.Values {
		if k == "cookie" || k == MetaKey {
			return nil, fmt.Errorf("json: key %q: %w", k, session.ErrReserved)
		}
		keys = append(keys, k)
	}
	hasMeta := !st.Created.IsZero() || !st.Deadline.IsZero()
	if hasMeta {
		keys = append(keys, MetaKey)
	}
	slices.Sort(keys)

	buf := make([]byte, 0, 192)
	buf = append(buf, `{"cookie":`...)
	buf, err := appendCookie(buf, &st.Cookie)
	if err != nil {
		return nil, err
	}
	var m marshaler
	for _, k := range keys {
		buf = append(buf, ',')
		buf = appendString(buf, k)
		buf = append(buf, ':')
		if k == MetaKey {
			if buf, err = appendMeta(buf, st.Created, st.Deadline); err != nil {
				return nil, err
			}
			continue
		}
		if buf, err = m.appendValue(buf, st.Values[k]); err != nil {
			return nil, fmt.Errorf("json: value %q: %w", k, err)
		}
	}
	return append(buf, '}'), nil
}

func appendCookie(buf []byte, c *session.Cookie) ([]byte, error) {
	buf = append(buf, `{"originalMaxAge":`...)
	if c.OriginalMaxAge == nil {
		buf = append(buf, "null"...)
	} else {
		buf = strconv.AppendInt(buf, *c.OriginalMaxAge, 10)
	}
	buf = appendBool(buf, `,"partitioned":`, c.Partitioned)
	buf = appendNonEmpty(buf, `,"priority":`, c.Priority)
	buf = append(buf, `,"expires":`...)
	if c.Expires == nil {
		buf = append(buf, "null"...)
	} else {
		t := c.Expires.UTC()
		if !inRange(t) || t.Year() < 0 || t.Year() > 9999 {
			return nil, errors.New("json: cookie expiry is outside years 0000 to 9999")
		}
		buf = append(buf, '"')
		buf = t.AppendFormat(buf, "2006-01-02T15:04:05.000Z")
		buf = append(buf, '"')
	}
	buf = appendBool(buf, `,"secure":`, c.Secure)
	buf = appendBool(buf, `,"httpOnly":`, c.HTTPOnly)
	buf = appendNonEmpty(buf, `,"domain":`, c.Domain)
	buf = appendNonEmpty(buf, `,"path":`, c.Path)
	buf = appendNonEmpty(buf, `,"sameSite":`, c.SameSite)
	return append(buf, '}'), nil
}

func appendBool(buf []byte, name string, v *bool) []byte {
	if v == nil {
		return buf
	}
	return strconv.AppendBool(append(buf, name...), *v)
}

func appendNonEmpty(buf []byte, name, v string) []byte {
	if v == "" {
		return buf
	}
	return appendString(append(buf, name...), v)
}

func appendMeta(buf []byte, created, deadline time.Time) ([]byte, error) {
	buf = append(buf, '{')
	sep := false
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"created", created}, {"deadline", deadline}} {
		if f.t.IsZero() {
			continue
		}
		if !inRange(f.t) {
			return nil, fmt.Errorf("json: %s time is outside the range of a JavaScript Date", f.name)
		}
		if sep {
			buf = append(buf, ',')
		}
		sep = true
		buf = append(buf, '"')
		buf = append(buf, f.name...)
		buf = append(buf, `":`...)
		buf = strconv.AppendInt(buf, f.t.UnixMilli(), 10)
	}
	return append(buf, '}'), nil
}

// inRange reports whether t fits a JavaScript Date; checked on seconds so
// that UnixMilli cannot overflow.
func inRange(t time.Time) bool {
	s := t.Unix()
	return s >= -maxMillis/1000 && s <= maxMillis/1000
}

// appendString writes s as JSON.stringify quotes a string: only '"', '\\'
// and control characters are escaped. Invalid UTF-8 becomes U+FFFD.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, s[start:i]...)
				buf = append(buf, "\uFFFD"...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\b':
			buf = append(buf, `\b`...)
		case '\f':
			buf = append(buf, `\f`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\r':
			buf = append(buf, `\r`...)
		case '\t':
			buf = append(buf, `\t`...)
		default:
			const hex = "0123456789abcdef"
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// marshaler encodes Go values with one reusable encoder per Encode call.
type marshaler struct {
	out bytes.Buffer
	enc *json.Encoder
}

func (m *marshaler) appendValue(buf []byte, v any) ([]byte, error) {
	switch r := v.(type) {
	case Raw:
		return append(buf, r.text()...), nil
	case *Raw:
		if r != nil {
			return append(buf, r.text()...), nil
		}
	case session.Raw:
		var x any
		if err := r.DecodeTo(&x); err != nil {
			return nil, fmt.Errorf("value left encoded by another codec cannot be read as any: %w", err)
		}
		v = x
	}
	if m.enc == nil {
		m.enc = json.NewEncoder(&m.out)
		m.enc.SetEscapeHTML(false)
	}
	m.out.Reset()
	if err := m.enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(m.out.Bytes(), []byte{'\n'})
	return appendUnescaped(buf, b), nil
}

// appendUnescaped appends JSON text b with the escapes that encoding/json
// writes and JSON.stringify does not (\u2028, \u2029, and \ufffd for invalid
// UTF-8) turned back into the characters.
func appendUnescaped(buf, b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u202`)) && !bytes.Contains(b, []byte(`\ufffd`)) {
		return append(buf, b...)
	}
	for i := 0; i < len(b); {
		if b[i] != '\\' || i+1 >= len(b) {
			buf = append(buf, b[i])
			i++
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "2028":
				buf = utf8.AppendRune(buf, '\u2028')
				i += 6
				continue
			case "2029":
				buf = utf8.AppendRune(buf, '\u2029')
				i += 6
				continue
			case "fffd":
				buf = utf8.AppendRune(buf, '\uFFFD')
				i += 6
				continue
			}
		}
		// Copy the escape pair whole so an escaped backslash is not read as
		// the start of another escape.
		buf = append(buf, b[i], b[i+1])
		i += 2
	}
	return buf
}
