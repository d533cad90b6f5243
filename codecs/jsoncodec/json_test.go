package jsoncodec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func ptr[T any](v T) *T { return &v }

func ms(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func golden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type cartItem struct {
	SKU   string  `json:"sku"`
	Qty   int     `json:"qty"`
	Price float64 `json:"price"`
}

type counts struct {
	Big   float64 `json:"big"`
	Neg   int     `json:"neg"`
	Small float64 `json:"small"`
	Max   int64   `json:"max"`
}

type profile struct {
	Lang string `json:"lang"`
	TZ   string `json:"tz"`
}

type user struct {
	ID      int      `json:"id"`
	Name    string   `json:"name"`
	Roles   []string `json:"roles"`
	Profile profile  `json:"profile"`
	Active  bool     `json:"active"`
}

// goldenCases pairs each document express-session wrote with the State it
// holds. state uses Go values; when identical is set, Encode of that State
// must reproduce the document byte for byte.
var goldenCases = []struct {
	name      string
	state     session.State
	identical bool
}{
	{
		name: "maxage",
		state: session.State{
			Cookie: session.Cookie{OriginalMaxAge: ptr[int64](86400000), Expires: ms("2026-01-03T03:04:05.678Z"),
				HTTPOnly: ptr(true), Path: "/"},
			Values: map[string]any{"user": "ada"},
		},
		identical: true,
	},
	{
		name: "secure-samesite-domain",
		state: session.State{
			Cookie: session.Cookie{OriginalMaxAge: ptr[int64](3600000), Expires: ms("2026-01-02T04:04:05.678Z"),
				Secure: ptr(true), HTTPOnly: ptr(false), Domain: "example.com", Path: "/app", SameSite: "lax"},
			Values: map[string]any{"n": 1},
		},
		identical: true,
	},
	{
		name: "partitioned-priority",
		state: session.State{
			Cookie: session.Cookie{OriginalMaxAge: ptr[int64](1209600000), Partitioned: ptr(true), Priority: "high",
				Expires: ms("2026-01-16T03:04:05.678Z"), Secure: ptr(true), HTTPOnly: ptr(true), Path: "/", SameSite: "none"},
			Values: map[string]any{"flag": true},
		},
		identical: true,
	},
	{
		name: "browser-session",
		state: session.State{
			Cookie: session.Cookie{HTTPOnly: ptr(true), Path: "/"},
			Values: map[string]any{"visits": 3},
		},
		identical: true,
	},
	{
		name: "nested",
		state: session.State{
			Cookie: session.Cookie{OriginalMaxAge: ptr[int64](60000), Expires: ms("2026-01-02T03:05:05.678Z"),
				HTTPOnly: ptr(true), Path: "/"},
			Values: map[string]any{
				"cart":   []cartItem{{"A-1", 2, 9.99}, {"B-2", 1, 0.5}},
				"counts": counts{Big: 1e21, Neg: 0, Small: 1e-7, Max: 9007199254740991},
				"empty":  struct{}{},
				"none":   nil,
				"user": user{ID: 42, Name: "Ada Lovelace", Roles: []string{"admin", "dev"},
					Profile: profile{"en", "Europe/London"}, Active: true},
			},
		},
		identical: true,
	},
	{
		name: "unicode",
		state: session.State{
			Cookie: session.Cookie{OriginalMaxAge: ptr[int64](86400000), Expires: ms("2026-01-03T03:04:05.678Z"),
				HTTPOnly: ptr(true), Path: "/"},
			Values: map[string]any{
				"clé":   "valeur",
				"ctl":   "tab\there\nnl \"q\" \\ \u0001 \u001f \b \f \r",
				"emoji": "😀 ☃",
				"html":  `<script>alert("&")</script>`,
				"sep":   "a\u2028b\u2029c",
				"text":  "héllo wörld — 日本語",
			},
		},
		identical: true,
	},
	{
		// Node stored sameSite as a boolean; Encode writes "strict".
		name: "samesite-true",
		state: session.State{
			Cookie: session.Cookie{OriginalMaxAge: ptr[int64](1000), Expires: ms("2026-01-02T03:04:06.678Z"),
				HTTPOnly: ptr(true), Path: "/", SameSite: "strict"},
			Values: map[string]any{"x": 1},
		},
	},
	{
		// Our document after express-session loaded, changed and saved it:
		// the metadata survived, "seen" was appended in insertion order.
		name: "reloaded",
		state: session.State{
			Cookie: session.Cookie{OriginalMaxAge: ptr[int64](86400000), Expires: ms("2026-01-03T03:04:05.678Z"),
				Secure: ptr(false), HTTPOnly: ptr(true), Path: "/"},
			Created:  time.UnixMilli(1767323045678),
			Deadline: time.UnixMilli(1767927845678),
			Values:   map[string]any{"seen": true, "user": map[string]any{"id": 7}},
		},
	},
}

// plain reads every value of st into an any, for comparing values of
// different Go types by their JSON meaning.
func plain(t *testing.T, values map[string]any) map[string]any {
	t.Helper()
	out := make(map[string]any, len(values))
	for k, v := range values {
		var x any
		if r, ok := v.(session.Raw); ok {
			if err := r.DecodeTo(&x); err != nil {
				t.Fatalf("DecodeTo(%q): %v", k, err)
			}
		} else {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &x); err != nil {
				t.Fatal(err)
			}
		}
		out[k] = x
	}
	return out
}

func sameMeta(t *testing.T, got, want *session.State) {
	t.Helper()
	if !reflect.DeepEqual(got.Cookie.OriginalMaxAge, want.Cookie.OriginalMaxAge) ||
		!reflect.DeepEqual(got.Cookie.Partitioned, want.Cookie.Partitioned) ||
		!reflect.DeepEqual(got.Cookie.Secure, want.Cookie.Secure) ||
		!reflect.DeepEqual(got.Cookie.HTTPOnly, want.Cookie.HTTPOnly) ||
		got.Cookie.Priority != want.Cookie.Priority || got.Cookie.Domain != want.Cookie.Domain ||
		got.Cookie.Path != want.Cookie.Path || got.Cookie.SameSite != want.Cookie.SameSite {
		t.Errorf("cookie = %+v, want %+v", got.Cookie, want.Cookie)
	}
	switch ge, we := got.Cookie.Expires, want.Cookie.Expires; {
	case (ge == nil) != (we == nil):
		t.Errorf("cookie expires = %v, want %v", ge, we)
	case ge != nil && !ge.Equal(we.Truncate(time.Millisecond)):
		t.Errorf("cookie expires = %v, want %v", *ge, *we)
	}
	if !got.Created.Equal(want.Created.Truncate(time.Millisecond)) {
		t.Errorf("created = %v, want %v", got.Created, want.Created)
	}
	if !got.Deadline.Equal(want.Deadline.Truncate(time.Millisecond)) {
		t.Errorf("deadline = %v, want %v", got.Deadline, want.Deadline)
	}
}

func TestGolden(t *testing.T) {
	c := jsoncodec.New()
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			doc := golden(t, tc.name)
			var st session.State
			if err := c.Decode(doc, &st); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			sameMeta(t, &st, &tc.state)
			if got, want := plain(t, st.Values), plain(t, tc.state.Values); !reflect.DeepEqual(got, want) {
				t.Errorf("values = %#v, want %#v", got, want)
			}
			for k, v := range st.Values {
				if _, ok := v.(jsoncodec.Raw); !ok {
					t.Errorf("value %q decoded as %T, want jsoncodec.Raw", k, v)
				}
			}

			again, err := c.Encode(&st)
			if err != nil {
				t.Fatalf("Encode of the decoded State: %v", err)
			}
			fromGo, err := c.Encode(&tc.state)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if tc.identical {
				if !bytes.Equal(again, doc) {
					t.Errorf("Encode(Decode(golden)):\n got %s\nwant %s", again, doc)
				}
				if !bytes.Equal(fromGo, doc) {
					t.Errorf("Encode of the Go State:\n got %s\nwant %s", fromGo, doc)
				}
			}
			// Whatever the original order, one State has one encoding.
			var st2 session.State
			if err := c.Decode(fromGo, &st2); err != nil {
				t.Fatal(err)
			}
			if b, _ := c.Encode(&st2); !bytes.Equal(b, fromGo) {
				t.Errorf("re-encoding is not stable:\n got %s\nwant %s", b, fromGo)
			}
		})
	}
}

// TestNodeLoadsOurs checks that the document golden.js hands express-session
// in its "reloaded" case (which express-session then loaded and saved, giving
// reloaded.json) is exactly what Encode writes.
func TestNodeLoadsOurs(t *testing.T) {
	js, err := os.ReadFile(filepath.Join("testdata", "golden.js"))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"cookie":{"originalMaxAge":86400000,"expires":"2026-01-03T03:04:05.678Z","secure":false,"httpOnly":true,"path":"/"},"__sessionkit":{"created":1767323045678,"deadline":1767927845678},"user":{"id":7}}`
	if !bytes.Contains(js, []byte("stored: '"+want+"'")) {
		t.Fatal("golden.js no longer stores the document this test expects")
	}
	got, err := jsoncodec.New().Encode(&session.State{
		Cookie: session.Cookie{OriginalMaxAge: ptr[int64](86400000), Expires: ms("2026-01-03T03:04:05.678Z"),
			Secure: ptr(false), HTTPOnly: ptr(true), Path: "/"},
		Created:  time.UnixMilli(1767323045678),
		Deadline: time.UnixMilli(1767927845678),
		Values: map[string]any{"user": struct {
			ID int `json:"id"`
		}{7}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("Encode:\n got %s\nwant %s", got, want)
	}
}

func TestDecodeToStructs(t *testing.T) {
	var st session.State
	if err := jsoncodec.New().Decode(golden(t, "nested"), &st); err != nil {
		t.Fatal(err)
	}
	var u user
	if err := st.Values["user"].(session.Raw).DecodeTo(&u); err != nil {
		t.Fatal(err)
	}
	want := user{ID: 42, Name: "Ada Lovelace", Roles: []string{"admin", "dev"}, Profile: profile{"en", "Europe/London"}, Active: true}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("user = %+v, want %+v", u, want)
	}
	var cart []cartItem
	if err := st.Values["cart"].(session.Raw).DecodeTo(&cart); err != nil {
		t.Fatal(err)
	}
	if len(cart) != 2 || cart[1] != (cartItem{"B-2", 1, 0.5}) {
		t.Errorf("cart = %+v", cart)
	}
	var n counts
	if err := st.Values["counts"].(session.Raw).DecodeTo(&n); err != nil {
		t.Fatal(err)
	}
	if n.Big != 1e21 || n.Small != 1e-7 || n.Max != 9007199254740991 {
		t.Errorf("counts = %+v", n)
	}

	// A type mismatch is session.ErrType and quotes no data.
	var wrong struct {
		ID string `json:"id"`
	}
	err := st.Values["user"].(session.Raw).DecodeTo(&wrong)
	if !errors.Is(err, session.ErrType) {
		t.Fatalf("DecodeTo into a mismatched struct = %v, want ErrType", err)
	}
	if strings.Contains(err.Error(), "42") {
		t.Errorf("error quotes session data: %v", err)
	}
	var s string
	if err := st.Values["counts"].(session.Raw).DecodeTo(&s); !errors.Is(err, session.ErrType) {
		t.Errorf("DecodeTo(object into string) = %v, want ErrType", err)
	}
}

func TestRoundTrip(t *testing.T) {
	created := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
	tests := []struct {
		name string
		st   session.State
		want string // the exact encoding; empty to skip
	}{
		{
			name: "empty",
			st:   session.State{},
			want: `{"cookie":{"originalMaxAge":null,"expires":null}}`,
		},
		{
			name: "metadata",
			st: session.State{
				Created:  created,
				Deadline: created.Add(7 * 24 * time.Hour),
				Values:   map[string]any{"a": 1, "_b": "x", "Z": true},
			},
			want: `{"cookie":{"originalMaxAge":null,"expires":null},"Z":true,"__sessionkit":{"created":1772600767891,"deadline":1773205567891},"_b":"x","a":1}`,
		},
		{
			name: "created only",
			st:   session.State{Created: created},
			want: `{"cookie":{"originalMaxAge":null,"expires":null},"__sessionkit":{"created":1772600767891}}`,
		},
		{
			name: "deadline only",
			st:   session.State{Deadline: time.UnixMilli(-5)},
			want: `{"cookie":{"originalMaxAge":null,"expires":null},"__sessionkit":{"deadline":-5}}`,
		},
		{
			name: "every cookie field",
			st: session.State{Cookie: session.Cookie{
				OriginalMaxAge: ptr[int64](-1), Partitioned: ptr(false), Priority: "low",
				Expires: ptr(time.Date(2030, 1, 2, 3, 4, 5, 999999999, time.FixedZone("X", 3600))),
				Secure:  ptr(false), HTTPOnly: ptr(false), Domain: "a\"b", Path: "/p", SameSite: "strict",
			}},
			want: `{"cookie":{"originalMaxAge":-1,"partitioned":false,"priority":"low","expires":"2030-01-02T02:04:05.999Z","secure":false,"httpOnly":false,"domain":"a\"b","path":"/p","sameSite":"strict"}}`,
		},
		{
			name: "year zero expiry",
			st:   session.State{Cookie: session.Cookie{Expires: ptr(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))}},
			want: `{"cookie":{"originalMaxAge":null,"expires":"0000-01-01T00:00:00.000Z"}}`,
		},
		{
			name: "escaping",
			st: session.State{Values: map[string]any{
				"k\x00\"\\":  "\x7f\u2028 \\u2028 <>&",
				"bad\xffkey": "bad\xffvalue",
				"raw":        json.RawMessage(` { "a" : [1, 2] } `),
			}},
			want: `{"cookie":{"originalMaxAge":null,"expires":null},"bad` + "\uFFFD" + `key":"bad` + "\uFFFD" +
				`value","k\u0000\"\\":"` + "\x7f\u2028" + ` \\u2028 <>&","raw":{"a":[1,2]}}`,
		},
	}
	c := jsoncodec.New()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := c.Encode(&tc.st)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && string(b) != tc.want {
				t.Errorf("Encode:\n got %s\nwant %s", b, tc.want)
			}
			if !json.Valid(b) {
				t.Errorf("Encode wrote invalid JSON: %s", b)
			}
			var got session.State
			if err := c.Decode(b, &got); err != nil {
				t.Fatal(err)
			}
			sameMeta(t, &got, &tc.st)
			if len(got.Values) != len(tc.st.Values) {
				t.Errorf("decoded %d values, want %d", len(got.Values), len(tc.st.Values))
			}
			b2, err := c.Encode(&got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Errorf("Encode(Decode(b)) != b:\n got %s\nwant %s", b2, b)
			}
		})
	}
}

func TestRawPassthrough(t *testing.T) {
	// Values no float64 can hold, key orders Go would sort and whitespace
	// must come back untouched when the application only changed "seen".
	doc := `{"cookie":{"originalMaxAge":null,"expires":null},` +
		`"big":9007199254740993,"huge":1e21,"obj":{"z":1, "a":[1.50,"\u00e9\n"]},"s":"\u2028"}`
	c := jsoncodec.New()
	var st session.State
	if err := c.Decode([]byte(doc), &st); err != nil {
		t.Fatal(err)
	}
	st.Values["seen"] = true
	b, err := c.Encode(&st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cookie":{"originalMaxAge":null,"expires":null},` +
		`"big":9007199254740993,"huge":1e21,"obj":{"z":1, "a":[1.50,"\u00e9\n"]},"s":"\u2028","seen":true}`
	if string(b) != want {
		t.Errorf("Encode:\n got %s\nwant %s", b, want)
	}
	// Reading a Raw is still possible and does not change what is written.
	var big uint64
	if err := st.Values["big"].(session.Raw).DecodeTo(&big); err != nil || big != 9007199254740993 {
		t.Errorf("DecodeTo(uint64) = %d, %v", big, err)
	}
	// A Raw nested in another value is written as its JSON.
	st.Values = map[string]any{"wrap": []any{st.Values["obj"]}, "p": ptr(st.Values["big"].(jsoncodec.Raw))}
	b, err = c.Encode(&st)
	if err != nil {
		t.Fatal(err)
	}
	if want := `,"p":9007199254740993,"wrap":[{"z":1,"a":[1.50,"\u00e9\n"]}]}`; !strings.HasSuffix(string(b), want) {
		t.Errorf("Encode = %s, want suffix %s", b, want)
	}
}

// foreignRaw stands for a value another codec left encoded.
type foreignRaw struct {
	v   any
	err error
}

func (f foreignRaw) DecodeTo(dst any) error {
	if f.err != nil {
		return f.err
	}
	reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(f.v))
	return nil
}

func TestForeignRaw(t *testing.T) {
	c := jsoncodec.New()
	b, err := c.Encode(&session.State{Values: map[string]any{"m": foreignRaw{v: map[string]any{"a": 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"cookie":{"originalMaxAge":null,"expires":null},"m":{"a":1}}`; string(b) != want {
		t.Errorf("Encode = %s, want %s", b, want)
	}
	_, err = c.Encode(&session.State{Values: map[string]any{"m": foreignRaw{err: errors.New("nope")}}})
	if err == nil {
		t.Error("Encode of an unreadable foreign Raw succeeded")
	}
}

func TestSameSite(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`true`, "strict", true},
		{`false`, "", true},
		{`null`, "", true},
		{`"Lax"`, "lax", true},
		{`"STRICT"`, "strict", true},
		{`"none"`, "none", true},
		{`"bogus"`, "", false},
		{`1`, "", false},
		{`{}`, "", false},
	}
	for _, tc := range tests {
		var st session.State
		err := jsoncodec.New().Decode([]byte(`{"cookie":{"sameSite":`+tc.in+`}}`), &st)
		if (err == nil) != tc.ok {
			t.Errorf("sameSite %s: err = %v, want ok = %v", tc.in, err, tc.ok)
			continue
		}
		if st.Cookie.SameSite != tc.want {
			t.Errorf("sameSite %s decoded as %q, want %q", tc.in, st.Cookie.SameSite, tc.want)
		}
	}
}

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want session.State
	}{
		{"no cookie", `{"a":1}`, session.State{}},
		{"empty cookie", `{"cookie":{}}`, session.State{}},
		{"nulls", `{"cookie":{"originalMaxAge":null,"partitioned":null,"priority":null,"expires":null,"secure":null,"httpOnly":null,"domain":null,"path":null},"__sessionkit":{"created":null}}`, session.State{}},
		{"unknown cookie fields", `{"cookie":{"maxAge":5,"originalMaxAge":5}}`, session.State{Cookie: session.Cookie{OriginalMaxAge: ptr[int64](5)}}},
		{"fractional max age", `{"cookie":{"originalMaxAge":1500.7}}`, session.State{Cookie: session.Cookie{OriginalMaxAge: ptr[int64](1500)}}},
		{"expires with offset", `{"cookie":{"expires":"2026-01-01T01:00:00.5+01:00"}}`, session.State{Cookie: session.Cookie{Expires: ms("2026-01-01T00:00:00.5Z")}}},
		{"expires without fraction", `{"cookie":{"expires":"2026-01-01T00:00:00Z"}}`, session.State{Cookie: session.Cookie{Expires: ms("2026-01-01T00:00:00Z")}}},
		{"metadata", `{"__sessionkit":{"created":1000,"deadline":2000,"future":1}}`, session.State{Created: time.UnixMilli(1000), Deadline: time.UnixMilli(2000)}},
		{"last duplicate wins", `{"cookie":{"path":"/a"},"cookie":{"path":"/b"}}`, session.State{Cookie: session.Cookie{Path: "/b"}}},
		{"whitespace", " \n{ \"cookie\" : { \"path\" : \"/\" } } \t", session.State{Cookie: session.Cookie{Path: "/"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := session.State{Values: map[string]any{"stale": 1}, Created: time.Now()}
			if err := jsoncodec.New().Decode([]byte(tc.doc), &st); err != nil {
				t.Fatal(err)
			}
			sameMeta(t, &st, &tc.want)
			if _, ok := st.Values["stale"]; ok {
				t.Error("Decode kept a value from the previous State")
			}
			if st.Values == nil {
				t.Error("Decode left Values nil")
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	// Each document carries the marker "s3cr3t" so the test can check the
	// error never quotes it.
	tests := []struct{ name, doc string }{
		{"empty", ``},
		{"not json", `s3cr3t`},
		{"truncated", `{"cookie":{"path":"s3cr3t"`},
		{"trailing data", `{"a":"s3cr3t"} x`},
		{"array", `["s3cr3t"]`},
		{"string", `"s3cr3t"`},
		{"null", `null`},
		{"number", `12345`},
		{"cookie null", `{"cookie":null,"a":"s3cr3t"}`},
		{"cookie string", `{"cookie":"s3cr3t"}`},
		{"cookie array", `{"cookie":["s3cr3t"]}`},
		{"expires bad", `{"cookie":{"expires":"s3cr3t"}}`},
		{"expires number", `{"cookie":{"expires":12345}}`},
		{"expires out of range", `{"cookie":{"expires":"9999-12-31T23:00:00-05:00"}}`},
		{"expires js form", `{"cookie":{"expires":"Thu, 01 Jan 2026 00:00:00 GMT s3cr3t"}}`},
		{"max age string", `{"cookie":{"originalMaxAge":"s3cr3t"}}`},
		{"max age huge", `{"cookie":{"originalMaxAge":1e300}}`},
		{"secure string", `{"cookie":{"secure":"s3cr3t"}}`},
		{"httpOnly number", `{"cookie":{"httpOnly":1}}`},
		{"path number", `{"cookie":{"path":12345}}`},
		{"domain object", `{"cookie":{"domain":{"s3cr3t":1}}}`},
		{"samesite bogus", `{"cookie":{"sameSite":"s3cr3t"}}`},
		{"meta not object", `{"__sessionkit":"s3cr3t"}`},
		{"meta string member", `{"__sessionkit":{"created":"s3cr3t"}}`},
		{"meta out of range", `{"__sessionkit":{"deadline":9e15}}`},
		{"invalid utf-8", "{\"a\":\"s3cr3t\xff\"}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := session.State{Values: map[string]any{"keep": 1}}
			err := jsoncodec.New().Decode([]byte(tc.doc), &st)
			if err == nil {
				t.Fatalf("Decode(%q) succeeded", tc.doc)
			}
			if !errors.Is(err, jsoncodec.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "12345") {
				t.Errorf("error quotes the document: %v", err)
			}
			if _, ok := st.Values["keep"]; !ok {
				t.Error("a failed Decode changed the State")
			}
		})
	}
	if err := jsoncodec.New().Decode([]byte(`{}`), nil); err == nil {
		t.Error("Decode into a nil State succeeded")
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name     string
		st       *session.State
		reserved bool
	}{
		{"nil state", nil, false},
		{"cookie key", &session.State{Values: map[string]any{"cookie": 1}}, true},
		{"meta key", &session.State{Values: map[string]any{jsoncodec.MetaKey: 1}}, true},
		{"NaN", &session.State{Values: map[string]any{"f": math.NaN()}}, false},
		{"channel", &session.State{Values: map[string]any{"c": make(chan int)}}, false},
		{"expiry year 10000", &session.State{Cookie: session.Cookie{Expires: ptr(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}}, false},
		{"expiry year -1", &session.State{Cookie: session.Cookie{Expires: ptr(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC))}}, false},
		{"created far future", &session.State{Created: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := jsoncodec.New().Encode(tc.st)
			if err == nil {
				t.Fatalf("Encode succeeded: %s", b)
			}
			if errors.Is(err, session.ErrReserved) != tc.reserved {
				t.Errorf("Encode error %v: wraps ErrReserved = %v, want %v", err, !tc.reserved, tc.reserved)
			}
		})
	}
}

func TestName(t *testing.T) {
	var c session.Codec = jsoncodec.New()
	if c.Name() != "json" {
		t.Errorf("Name() = %q", c.Name())
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range goldenCases {
		f.Add(golden(f, tc.name))
	}
	f.Add([]byte(`{"cookie":{"sameSite":"Lax","originalMaxAge":1.5e3},"__sessionkit":{"created":-62135596800000},"x":9007199254740993}`))
	f.Add([]byte(`{"a":"\u2028\ud800","b":[ 1 , {"c" : null} ]}`))
	c := jsoncodec.New()
	f.Fuzz(func(t *testing.T, data []byte) {
		// encoding/json is the reference for which documents are objects
		// and what text each member holds.
		var ref map[string]json.RawMessage
		isObject := utf8.Valid(data) && json.Unmarshal(data, &ref) == nil && ref != nil

		var st session.State
		err := c.Decode(data, &st)
		sameAsReference(t, data, &st, err)
		if err != nil {
			if !errors.Is(err, jsoncodec.ErrMalformed) {
				t.Fatalf("Decode error %v does not wrap ErrMalformed", err)
			}
			if isObject && (strings.Contains(err.Error(), "not a JSON object") || strings.Contains(err.Error(), "not valid JSON")) {
				t.Fatalf("Decode rejected an object: %v", err)
			}
			return
		}
		if !isObject {
			t.Fatalf("Decode accepted what encoding/json does not read as an object: %q", data)
		}
		delete(ref, "cookie")
		delete(ref, jsoncodec.MetaKey)
		if len(ref) != len(st.Values) {
			t.Fatalf("Decode found %d values, encoding/json %d", len(st.Values), len(ref))
		}
		for k, want := range ref {
			r, ok := st.Values[k].(jsoncodec.Raw)
			if !ok {
				t.Fatalf("value %q missing or not a Raw", k)
			}
			if got, _ := r.MarshalJSON(); !bytes.Equal(got, want) {
				t.Fatalf("value %q = %q, encoding/json read %q", k, got, want)
			}
		}
		b1, err := c.Encode(&st)
		if err != nil {
			t.Fatalf("Encode of a decoded document: %v", err)
		}
		if !json.Valid(b1) {
			t.Fatalf("Encode wrote invalid JSON: %q", b1)
		}
		var st2 session.State
		if err := c.Decode(b1, &st2); err != nil {
			t.Fatalf("Decode of Encode output: %v\n%q", err, b1)
		}
		b2, err := c.Encode(&st2)
		if err != nil {
			t.Fatalf("second Encode: %v", err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable:\n%q\n%q", b1, b2)
		}
		for k, v := range st2.Values {
			var x any
			if err := v.(session.Raw).DecodeTo(&x); err != nil {
				t.Fatalf("DecodeTo(any) of %q: %v", k, err)
			}
		}
	})
}

type benchUser struct {
	ID    int64    `json:"id"`
	Email string   `json:"email"`
	Roles []string `json:"roles"`
}

func benchState() *session.State {
	return &session.State{
		Created:  time.Now(),
		Deadline: time.Now().Add(24 * time.Hour),
		Cookie: session.Cookie{OriginalMaxAge: ptr[int64](86400000), Expires: ptr(time.Now().Add(24 * time.Hour)),
			HTTPOnly: ptr(true), Path: "/", SameSite: "lax"},
		Values: map[string]any{
			"user":  benchUser{ID: 1234, Email: "ada@example.com", Roles: []string{"admin", "dev"}},
			"csrf":  "q0bVbqnN6lR7K4uBSrX1k9sM",
			"flash": []string{"Saved."},
		},
	}
}

func BenchmarkEncode(b *testing.B) {
	c, st := jsoncodec.New(), benchState()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(st); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	c := jsoncodec.New()
	data, err := c.Encode(benchState())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var st session.State
		if err := c.Decode(data, &st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReencode measures a save of a loaded session whose values were
// not read: every value is a Raw written back as is.
func BenchmarkReencode(b *testing.B) {
	c := jsoncodec.New()
	data, err := c.Encode(benchState())
	if err != nil {
		b.Fatal(err)
	}
	var st session.State
	if err := c.Decode(data, &st); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(&st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead is the codec's share of a request that reads one value:
// Decode of the document, then DecodeTo of an int.
func BenchmarkRead(b *testing.B) {
	c := jsoncodec.New()
	st := benchState()
	st.Values["n"] = 41
	data, err := c.Encode(st)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var st session.State
		if err := c.Decode(data, &st); err != nil {
			b.Fatal(err)
		}
		var n int
		if err := st.Values["n"].(session.Raw).DecodeTo(&n); err != nil || n != 41 {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkDecodeTo(b *testing.B) {
	var st session.State
	doc := `{"n":41,"s":"q0bVbqnN6lR7K4uBSrX1k9sM","u":{"id":1234,"email":"ada@example.com","roles":["admin","dev"]}}`
	if err := jsoncodec.New().Decode([]byte(doc), &st); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		key string
		dst func() any
	}{
		{"n", func() any { return new(int) }},
		{"s", func() any { return new(string) }},
		{"n", func() any { return new(any) }},
		{"u", func() any { return new(benchUser) }},
	} {
		b.Run(fmt.Sprintf("%s-%T", tc.key, tc.dst()), func(b *testing.B) {
			r := st.Values[tc.key].(session.Raw)
			dst := tc.dst()
			b.ReportAllocs()
			for b.Loop() {
				if p, ok := dst.(*any); ok {
					*p = nil // as Get[any] starts
				}
				if err := r.DecodeTo(dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReservedKeys checks that a Manager with the JSON codec refuses the keys
// express-session drops, where they are put.
func TestReservedKeys(t *testing.T) {
	m, err := session.New(session.Config{Store: memstore.New(memstore.WithPruneInterval(0)), Codec: jsoncodec.New()})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Open(t.Context(), "")
	for _, k := range []string{"cookie", "id", "req", "regenerate", "__proto__", "toString", "", jsoncodec.MetaKey} {
		if err := s.Put(k, 1); !errors.Is(err, session.ErrReserved) {
			t.Errorf("Put(%q): %v, want ErrReserved", k, err)
		}
	}
	if err := s.Put("cookies", 1); err != nil {
		t.Errorf("Put(cookies): %v", err)
	}
	if _, err := session.New(session.Config{Store: memstore.New(memstore.WithPruneInterval(0)), Codec: jsoncodec.New(), UserKey: "id"}); !errors.Is(err, session.ErrReserved) {
		t.Errorf("UserKey id: %v, want ErrReserved", err)
	}
}

func TestUser(t *testing.T) {
	for in, want := range map[string]string{
		`{"user_id":"ana"}`: "ana", `{"user_id":42}`: "42", `{"user_id":null}`: "", `{"x":1}`: "",
		`not json`: "", `{"user_id":{"a":1}}`: "", ``: "",
	} {
		if got := jsoncodec.User([]byte(in), "user_id"); got != want {
			t.Errorf("User(%s) = %q, want %q", in, got, want)
		}
	}
}
