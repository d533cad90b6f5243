package jsoncodec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
)

// referenceDecode is Decode as it was written before it had its own scanner:
// encoding/json takes the document and its cookie and metadata objects apart
// into maps, and the fields are read from the maps. FuzzDecode holds Decode to
// it, errors included.
func referenceDecode(data []byte) (session.State, error) {
	var out session.State
	if !utf8.Valid(data) {
		return out, refMalformed("the document is not valid UTF-8")
	}
	if !json.Valid(data) {
		var se *json.SyntaxError
		if errors.As(json.Unmarshal(data, new(struct{})), &se) {
			return out, refMalformed(fmt.Sprintf("the document is not valid JSON (syntax error at byte %d)", se.Offset))
		}
		return out, refMalformed("the document is not valid JSON")
	}
	top, ok := refObject(data)
	if !ok {
		return out, refMalformed("the document is not a JSON object")
	}
	out.Values = make(map[string]any, len(top))
	for k, v := range top {
		if k != "cookie" && k != jsoncodec.MetaKey {
			out.Values[k] = v
		}
	}
	if raw, ok := top["cookie"]; ok {
		if err := refCookie(raw, &out.Cookie); err != nil {
			return session.State{}, err
		}
	}
	if raw, ok := top[jsoncodec.MetaKey]; ok {
		m, ok := refObject(raw)
		if !ok {
			return session.State{}, refMalformed(jsoncodec.MetaKey + " is not an object")
		}
		for _, f := range []struct {
			name string
			t    *time.Time
		}{{"created", &out.Created}, {"deadline", &out.Deadline}} {
			v, ok := m[f.name]
			if !ok || refNull(v) {
				continue
			}
			n, err := refInt(v)
			if err == nil && (n < -8.64e15 || n > 8.64e15) {
				err = errors.New("is out of range")
			}
			if err != nil {
				return session.State{}, refMalformed(jsoncodec.MetaKey + "." + f.name + " " + err.Error())
			}
			*f.t = time.UnixMilli(n).UTC()
		}
	}
	return out, nil
}

func refMalformed(why string) error { return fmt.Errorf("%w: %s", jsoncodec.ErrMalformed, why) }

func refObject(raw []byte) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	return m, true
}

func refNull(v []byte) bool { return string(v) == "null" }

func refInt(v []byte) (int64, error) {
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

func refString(m map[string]json.RawMessage, name string) (string, error) {
	v, ok := m[name]
	if !ok || refNull(v) {
		return "", nil
	}
	if v[0] != '"' {
		return "", refMalformed("cookie." + name + " is not a string")
	}
	var s string
	_ = json.Unmarshal(v, &s)
	return s, nil
}

func refBool(m map[string]json.RawMessage, name string) (*bool, error) {
	v, ok := m[name]
	if !ok || refNull(v) {
		return nil, nil
	}
	switch string(v) {
	case "true":
		return ptr(true), nil
	case "false":
		return ptr(false), nil
	}
	return nil, refMalformed("cookie." + name + " is not a boolean")
}

func refCookie(raw []byte, c *session.Cookie) error {
	m, ok := refObject(raw)
	if !ok {
		return refMalformed("cookie is not an object")
	}
	if v, ok := m["originalMaxAge"]; ok && !refNull(v) {
		n, err := refInt(v)
		if err != nil {
			return refMalformed("cookie.originalMaxAge " + err.Error())
		}
		c.OriginalMaxAge = &n
	}
	var err error
	for _, f := range []struct {
		name string
		p    **bool
	}{{"partitioned", &c.Partitioned}, {"secure", &c.Secure}, {"httpOnly", &c.HTTPOnly}} {
		if *f.p, err = refBool(m, f.name); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		p    *string
	}{{"priority", &c.Priority}, {"domain", &c.Domain}, {"path", &c.Path}} {
		if *f.p, err = refString(m, f.name); err != nil {
			return err
		}
	}
	if v, ok := m["expires"]; ok && !refNull(v) {
		if v[0] != '"' {
			return refMalformed("cookie.expires is not a string")
		}
		s, _ := refString(m, "expires")
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return refMalformed("cookie.expires is not an ISO-8601 date")
		}
		if t = t.UTC(); t.Year() < 0 || t.Year() > 9999 {
			return refMalformed("cookie.expires is outside years 0000 to 9999")
		}
		c.Expires = &t
	}
	if v, ok := m["sameSite"]; ok {
		switch string(v) {
		case "null", "false":
		case "true":
			c.SameSite = "strict"
		default:
			s, err := refString(m, "sameSite")
			if err != nil {
				return err
			}
			switch s = strings.ToLower(s); s {
			case "strict", "lax", "none":
				c.SameSite = s
			default:
				return refMalformed(`cookie.sameSite is not "strict", "lax", "none" or a boolean`)
			}
		}
	}
	return nil
}

// sameAsReference fails t unless Decode read data as referenceDecode does.
func sameAsReference(t *testing.T, data []byte, got *session.State, err error) {
	t.Helper()
	want, werr := referenceDecode(data)
	if fmt.Sprint(err) != fmt.Sprint(werr) {
		t.Fatalf("Decode(%q) error = %v, reference %v", data, err, werr)
	}
	if err != nil {
		return
	}
	if g, w := cookieString(got.Cookie), cookieString(want.Cookie); g != w {
		t.Fatalf("Decode(%q) cookie = %s, reference %s", data, g, w)
	}
	if g, w := got.Cookie.Expires, want.Cookie.Expires; g != nil && w != nil && *g != *w {
		t.Fatalf("Decode(%q) cookie expires = %#v, reference %#v", data, *g, *w)
	}
	if got.Created != want.Created || got.Deadline != want.Deadline {
		t.Fatalf("Decode(%q) metadata = %v %v, reference %v %v", data, got.Created, got.Deadline, want.Created, want.Deadline)
	}
	if len(got.Values) != len(want.Values) {
		t.Fatalf("Decode(%q) found %d values, reference %d", data, len(got.Values), len(want.Values))
	}
	for k, w := range want.Values {
		r, ok := got.Values[k].(jsoncodec.Raw)
		if !ok {
			t.Fatalf("Decode(%q): value %q missing or not a Raw", data, k)
		}
		if g, _ := r.MarshalJSON(); !bytes.Equal(g, w.(json.RawMessage)) {
			t.Fatalf("Decode(%q): value %q = %q, reference %q", data, k, g, w)
		}
	}
}

// cookieString spells out every field of c, following pointers.
func cookieString(c session.Cookie) string {
	p := func(v any) string {
		switch v := v.(type) {
		case *int64:
			if v != nil {
				return strconv.FormatInt(*v, 10)
			}
		case *bool:
			if v != nil {
				return strconv.FormatBool(*v)
			}
		case *time.Time:
			if v != nil {
				return fmt.Sprintf("%#v", *v)
			}
		}
		return "nil"
	}
	return fmt.Sprintf("maxAge=%s partitioned=%s priority=%q expires=%s secure=%s httpOnly=%s domain=%q path=%q sameSite=%q",
		p(c.OriginalMaxAge), p(c.Partitioned), c.Priority, p(c.Expires), p(c.Secure), p(c.HTTPOnly), c.Domain, c.Path, c.SameSite)
}

func TestDecodeMatchesReference(t *testing.T) {
	docs := []string{
		`{}`, `{"cookie":{}}`, `{"cookie":null}`, `{"cookie":[]}`, `{"cookie":1}`, `{"__sessionkit":[]}`,
		`{"cookie":{"originalMaxAge":9007199254740993,"expires":"2026-01-03T03:04:05.678Z","httpOnly":true,"path":"/"}}`,
		`{"cookie":{"originalMaxAge":-0,"secure":false,"partitioned":true,"priority":"High","domain":"a.example"}}`,
		`{"cookie":{"originalMaxAge":1e3}}`, `{"cookie":{"originalMaxAge":-1.9}}`, `{"cookie":{"originalMaxAge":9.3e18}}`,
		`{"cookie":{"originalMaxAge":-9.3e18}}`, `{"cookie":{"originalMaxAge":123456789012345678}}`,
		`{"cookie":{"originalMaxAge":1234567890123456789}}`, `{"cookie":{"originalMaxAge":-9223372036854775808}}`,
		`{"cookie":{"originalMaxAge":true}}`, `{"cookie":{"originalMaxAge":[1]}}`,
		`{"cookie":{"expires":"2024-02-29T12:00:00.000Z"}}`, `{"cookie":{"expires":"2026-02-29T12:00:00.000Z"}}`,
		`{"cookie":{"expires":"0000-01-01T00:00:00.000Z"}}`, `{"cookie":{"expires":"0000-01-01T00:00:00.000+00:01"}}`,
		`{"cookie":{"expires":"2026-01-01T00:00:00,123Z"}}`, `{"cookie":{"expires":"2026-01-01T00:00:00.123456789Z"}}`,
		`{"cookie":{"expires":"\u0032026-01-01T00:00:00.000Z"}}`, `{"cookie":{"expires":"2026-01-01T00:00:00.000Z","expires":null}}`,
		`{"cookie":{"secure":"true"}}`, `{"cookie":{"secure":1,"secure":false}}`, `{"cookie":{"path":"/a\/b"}}`,
		`{"cookie":{"pa\u0074h":"/x"}}`, `{"cook\u0069e":{"path":"/y"}}`, `{"cookie":{"path":"/"},"cookie":3}`,
		`{"cookie":{"sameSite":"LAX"}}`, `{"cookie":{"sameSite":"Str\u0069ct"}}`, `{"cookie":{"sameSite":"STR\u0130CT"}}`,
		`{"cookie":{"sameSite":{}}}`, `{"cookie":{"sameSite":0}}`, `{"cookie":{"sameSite":true,"secure":"x"}}`,
		`{"cookie":{"domain":{"a":[1,{"b":null}]},"x":[[[]]]}}`,
		`{"__sessionkit":{"created":1.5,"deadline":-8640000000000000}}`, `{"__sessionkit":{"created":8640000000000001}}`,
		`{"__sessionkit":{"created":"1"},"cookie":{"secure":2}}`, `{"__sessionkit":{"cr\u0065ated":5}}`,
		`{"__sessionkit":{"created":null,"deadline":7,"other":{"x":[1]}}}`, `{"__sessionkit":null}`,
		`{"a":1,"a":2,"b":"\u00e9","c" : [ 1 , 2 ] , "d":{"e":"f"}}`, `{"\ud800":1,"\u0000":2}`,
		` {"a":true} `, `{"a":1}x`, `[]`, `"s"`, ``, "{\"a\":\"\xff\"}", `{"a":1,}`,
	}
	for _, tc := range goldenCases {
		docs = append(docs, string(golden(t, tc.name)))
	}
	c := jsoncodec.New()
	for _, doc := range docs {
		var st session.State
		err := c.Decode([]byte(doc), &st)
		sameAsReference(t, []byte(doc), &st, err)
	}
}
