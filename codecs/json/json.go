// Package json is the session codec that writes the document express-session
// stores: {"cookie":{…},"user":…}. It is the default codec, and the one a
// PostgreSQL store sharing its table with a Node application needs.
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
package json

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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

var _ session.Codec = (*Codec)(nil)

// Name returns "json".
func (*Codec) Name() string { return "json" }

// Raw is a value that Decode left as JSON text. Its zero value reads as JSON
// null.
type Raw struct{ b []byte }

// DecodeTo decodes the value into dst, a non-nil pointer, as json.Unmarshal
// does. A value whose JSON type does not fit dst gives an error wrapping
// session.ErrType.
func (r Raw) DecodeTo(dst any) error {
	err := stdjson.Unmarshal(r.text(), dst)
	var te *stdjson.UnmarshalTypeError
	if errors.As(err, &te) {
		// te.Error() may quote a number from the session; name only the types.
		if te.Field != "" {
			return fmt.Errorf("json: field %s of %T wants %v: %w", te.Field, dst, te.Type, session.ErrType)
		}
		return fmt.Errorf("json: value does not fit %T: %w", dst, session.ErrType)
	}
	return err
}

// MarshalJSON returns the JSON text, so a Raw inside another value encodes as
// the value it holds.
func (r Raw) MarshalJSON() ([]byte, error) { return r.text(), nil }

func (r Raw) text() []byte {
	if r.b == nil {
		return []byte("null")
	}
	return r.b
}

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
	enc *stdjson.Encoder
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
		m.enc = stdjson.NewEncoder(&m.out)
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

// Decode reads an express-session document into st, replacing what st held.
// Every value other than the cookie and MetaKey is left as a Raw. A document
// without a cookie decodes with an empty Cookie. As with JSON.parse, the last
// of repeated keys wins. Errors wrap ErrMalformed.
func (*Codec) Decode(data []byte, st *session.State) error {
	if st == nil {
		return errors.New("json: Decode into a nil State")
	}
	if !utf8.Valid(data) {
		return malformed("the document is not valid UTF-8")
	}
	if !stdjson.Valid(data) {
		var se *stdjson.SyntaxError
		if errors.As(stdjson.Unmarshal(data, new(struct{})), &se) {
			return malformed(fmt.Sprintf("the document is not valid JSON (syntax error at byte %d)", se.Offset))
		}
		return malformed("the document is not valid JSON")
	}
	// One copy of the document backs every Raw: the caller keeps data.
	doc := bytes.Clone(data)
	out := session.State{Values: make(map[string]any, 8)}
	var cookieRaw, metaRaw []byte
	isObject := members(doc, func(k string, v []byte) {
		switch k {
		case "cookie":
			cookieRaw = v
		case MetaKey:
			metaRaw = v
		default:
			out.Values[k] = Raw{b: v}
		}
	})
	if !isObject {
		return malformed("the document is not a JSON object")
	}
	if cookieRaw != nil {
		if err := decodeCookie(cookieRaw, &out.Cookie); err != nil {
			return err
		}
	}
	if metaRaw != nil {
		var err error
		if out.Created, out.Deadline, err = decodeMeta(metaRaw); err != nil {
			return err
		}
	}
	*st = out
	return nil
}

func malformed(why string) error { return fmt.Errorf("%w: %s", ErrMalformed, why) }

// members calls fn with each member of the object that data holds, and
// reports whether data is an object at all. data must be valid JSON: the
// scan relies on it and checks nothing else. Each value passed to fn is a
// subslice of data that cannot be appended to in place.
func members(data []byte, fn func(key string, val []byte)) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	for data[i] != '}' {
		end := skipString(data, i)
		key := unquote(data[i:end])
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // the colon
		end = skipValue(data, i)
		fn(key, data[i:end:end])
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string that opens at data[i].
func skipString(data []byte, i int) int {
	for i++; ; i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// skipValue returns the index just past the value that starts at data[i].
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default:
		for i < len(data) {
			switch data[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// unquote returns the text of the valid JSON string q.
func unquote(q []byte) string {
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = stdjson.Unmarshal(q, &s) // cannot fail: q is a valid JSON string
	return s
}

// object returns the members of a JSON object (last repeated key wins); ok
// is false for anything else, null included. raw must be valid JSON.
func object(raw []byte) (m map[string][]byte, ok bool) {
	m = make(map[string][]byte, 9)
	return m, members(raw, func(k string, v []byte) { m[k] = v })
}

func decodeCookie(raw []byte, c *session.Cookie) error {
	m, ok := object(raw)
	if !ok {
		return malformed("cookie is not an object")
	}
	var err error
	if v, ok := m["originalMaxAge"]; ok && !isNull(v) {
		n, nerr := decodeInt(v)
		if nerr != nil {
			return malformed("cookie.originalMaxAge " + nerr.Error())
		}
		c.OriginalMaxAge = &n
	}
	if c.Partitioned, err = decodeBool(m, "partitioned"); err != nil {
		return err
	}
	if c.Secure, err = decodeBool(m, "secure"); err != nil {
		return err
	}
	if c.HTTPOnly, err = decodeBool(m, "httpOnly"); err != nil {
		return err
	}
	if c.Priority, err = decodeString(m, "priority"); err != nil {
		return err
	}
	if c.Domain, err = decodeString(m, "domain"); err != nil {
		return err
	}
	if c.Path, err = decodeString(m, "path"); err != nil {
		return err
	}
	if v, ok := m["expires"]; ok && !isNull(v) {
		if v[0] != '"' {
			return malformed("cookie.expires is not a string")
		}
		t, perr := time.Parse(time.RFC3339Nano, unquote(v))
		if perr != nil {
			return malformed("cookie.expires is not an ISO-8601 date")
		}
		t = t.UTC()
		if t.Year() < 0 || t.Year() > 9999 {
			return malformed("cookie.expires is outside years 0000 to 9999")
		}
		c.Expires = &t
	}
	if v, ok := m["sameSite"]; ok {
		switch {
		case isNull(v), string(v) == "false":
		case string(v) == "true":
			// The cookie module reads true as Strict.
			c.SameSite = "strict"
		default:
			s, err := decodeString(m, "sameSite")
			if err != nil {
				return err
			}
			switch s = strings.ToLower(s); s {
			case "strict", "lax", "none":
				c.SameSite = s
			default:
				return malformed(`cookie.sameSite is not "strict", "lax", "none" or a boolean`)
			}
		}
	}
	return nil
}

func isNull(v []byte) bool { return string(v) == "null" }

func decodeBool(m map[string][]byte, name string) (*bool, error) {
	v, ok := m[name]
	if !ok || isNull(v) {
		return nil, nil
	}
	var b bool
	switch string(v) {
	case "true":
		b = true
	case "false":
	default:
		return nil, malformed("cookie." + name + " is not a boolean")
	}
	return &b, nil
}

func decodeString(m map[string][]byte, name string) (string, error) {
	v, ok := m[name]
	if !ok || isNull(v) {
		return "", nil
	}
	if v[0] != '"' {
		return "", malformed("cookie." + name + " is not a string")
	}
	return unquote(v), nil
}

// decodeInt reads a JSON number as an int64, truncating a fraction as a
// JavaScript Date does with milliseconds.
func decodeInt(v []byte) (int64, error) {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, errors.New("is not a number")
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, errors.New("is out of range")
	}
	return int64(f), nil
}

func decodeMeta(raw []byte) (created, deadline time.Time, err error) {
	m, ok := object(raw)
	if !ok {
		return created, deadline, malformed(MetaKey + " is not an object")
	}
	read := func(name string) (time.Time, error) {
		v, ok := m[name]
		if !ok || isNull(v) {
			return time.Time{}, nil
		}
		n, err := decodeInt(v)
		if err == nil && (n < -maxMillis || n > maxMillis) {
			err = errors.New("is out of range")
		}
		if err != nil {
			return time.Time{}, malformed(MetaKey + "." + name + " " + err.Error())
		}
		return time.UnixMilli(n).UTC(), nil
	}
	if created, err = read("created"); err != nil {
		return
	}
	deadline, err = read("deadline")
	return
}
