package gobcodec_test

import (
	"bytes"
	"encoding/gob"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/gobcodec"
	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
)

func ptr[T any](v T) *T { return &v }

type level int

type address struct {
	Street string
	Since  time.Time
}

// user is never registered with encoding/gob: reading it back with its type
// must work without.
type user struct {
	ID      int64
	Name    string
	Level   level
	Home    *address
	Tags    map[int]string
	Balance float64
}

var (
	when = time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
	ada  = user{ID: 42, Name: "Ada", Level: 3, Home: &address{"1 Analytical Way", when},
		Tags: map[int]string{1: "a", 2: "b"}, Balance: -0.25}
)

func fullState() *session.State {
	return &session.State{
		Created:  when,
		Deadline: when.Add(30 * 24 * time.Hour),
		Cookie: session.Cookie{
			OriginalMaxAge: ptr[int64](0), Partitioned: ptr(false), Priority: "high",
			Expires: ptr(when.Add(time.Hour)), Secure: ptr(false), HTTPOnly: ptr(true),
			Domain: "example.com", Path: "/", SameSite: "lax",
		},
		Values: map[string]any{
			"user":  ada,
			"ptr":   &ada,
			"n":     7,
			"zero":  0,
			"s":     "héllo",
			"bytes": []byte{0, 1, 2},
			"nil":   nil,
			"when":  when,
			"json":  map[string]any{"a": 1.5, "b": []any{"x", true, nil}},
		},
	}
}

func decode(t *testing.T, data []byte) *session.State {
	t.Helper()
	var st session.State
	if err := gobcodec.New().Decode(data, &st); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return &st
}

func encode(t *testing.T, st *session.State) []byte {
	t.Helper()
	b, err := gobcodec.New().Encode(st)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		st   *session.State
	}{
		{"empty", &session.State{}},
		{"full", fullState()},
		{"browser-session cookie", &session.State{Cookie: session.Cookie{HTTPOnly: ptr(false), Path: "/"}, Values: map[string]any{"a": "b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.st)
			if data[0] != gobcodec.Version {
				t.Errorf("first byte = %d, want version %d", data[0], gobcodec.Version)
			}
			got := decode(t, data)
			if !got.Created.Equal(tc.st.Created) || !got.Deadline.Equal(tc.st.Deadline) {
				t.Errorf("created, deadline = %v, %v; want %v, %v", got.Created, got.Deadline, tc.st.Created, tc.st.Deadline)
			}
			wc, gc := tc.st.Cookie, got.Cookie
			if wc.Expires != nil {
				if gc.Expires == nil || !gc.Expires.Equal(*wc.Expires) {
					t.Errorf("cookie expires = %v, want %v", gc.Expires, *wc.Expires)
				}
				wc.Expires, gc.Expires = nil, nil
			}
			if !reflect.DeepEqual(gc, wc) {
				t.Errorf("cookie = %+v, want %+v", gc, wc)
			}
			if len(got.Values) != len(tc.st.Values) {
				t.Fatalf("decoded %d values, want %d", len(got.Values), len(tc.st.Values))
			}
			for k, v := range got.Values {
				if _, ok := v.(gobcodec.Raw); !ok {
					t.Errorf("value %q decoded as %T, want gobcodec.Raw", k, v)
				}
			}
			// Untouched values are written back as they were read.
			if again := encode(t, got); !bytes.Equal(again, data) {
				t.Errorf("Encode(Decode(b)) differs from b")
			}
		})
	}
}

func TestDecodeTo(t *testing.T) {
	st := decode(t, encode(t, fullState()))
	raw := func(k string) session.Raw { return st.Values[k].(session.Raw) }

	var u user
	if err := raw("user").DecodeTo(&u); err != nil {
		t.Fatal(err)
	}
	if u.ID != ada.ID || u.Name != ada.Name || u.Level != ada.Level || !u.Home.Since.Equal(when) ||
		u.Home.Street != ada.Home.Street || !reflect.DeepEqual(u.Tags, ada.Tags) || u.Balance != ada.Balance {
		t.Errorf("user = %+v, want %+v", u, ada)
	}
	var up *user
	if err := raw("ptr").DecodeTo(&up); err != nil || up == nil || up.Name != "Ada" {
		t.Errorf("DecodeTo(**user) = %+v, %v", up, err)
	}
	// gob's compatible types: an int reads as int64 or uint8.
	var n64 int64
	if err := raw("n").DecodeTo(&n64); err != nil || n64 != 7 {
		t.Errorf("DecodeTo(int64) = %d, %v", n64, err)
	}
	var zero int = 99
	if err := raw("zero").DecodeTo(&zero); err != nil || zero != 0 {
		t.Errorf("DecodeTo(zero) = %d, %v", zero, err)
	}
	var w time.Time
	if err := raw("when").DecodeTo(&w); err != nil || !w.Equal(when) {
		t.Errorf("DecodeTo(time.Time) = %v, %v", w, err)
	}
	s := "stale"
	if err := raw("nil").DecodeTo(&s); err != nil || s != "" {
		t.Errorf("DecodeTo of nil = %q, %v; want the zero value", s, err)
	}

	// Mismatches wrap session.ErrType.
	var str string
	if err := raw("n").DecodeTo(&str); !errors.Is(err, session.ErrType) {
		t.Errorf("DecodeTo(int into string) = %v, want ErrType", err)
	}
	var other struct{ Nope int }
	if err := raw("user").DecodeTo(&other); !errors.Is(err, session.ErrType) {
		t.Errorf("DecodeTo(user into unrelated struct) = %v, want ErrType", err)
	}
	if err := raw("user").DecodeTo(u); err == nil {
		t.Error("DecodeTo(non-pointer) succeeded")
	}
}

func TestDecodeToAny(t *testing.T) {
	st := decode(t, encode(t, &session.State{Values: map[string]any{
		"b": true, "i": -3, "u": uint16(9), "f": 2.5, "c": complex(1, 2), "s": "x", "bs": []byte("y"),
		"m": map[string]any{"k": []any{1.0, "v"}}, "l": []any{"a"}, "user": ada, "nil": nil,
	}}))
	want := map[string]any{
		"b": true, "i": int64(-3), "u": uint64(9), "f": 2.5, "c": complex(1, 2), "s": "x", "bs": []byte("y"),
		"m": map[string]any{"k": []any{1.0, "v"}}, "l": []any{"a"}, "nil": nil,
	}
	for k, w := range want {
		var got any = "stale"
		if err := st.Values[k].(session.Raw).DecodeTo(&got); err != nil {
			t.Errorf("DecodeTo(*any) of %q: %v", k, err)
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("DecodeTo(*any) of %q = %#v, want %#v", k, got, w)
		}
	}
	var got any
	if err := st.Values["user"].(session.Raw).DecodeTo(&got); !errors.Is(err, session.ErrType) {
		t.Errorf("DecodeTo(*any) of a struct = %v, want ErrType", err)
	}
}

func TestFromJSON(t *testing.T) {
	// A session read by codecs/jsoncodec (its values still Raw) saved with gob,
	// as a migration between deployments would.
	doc, err := os.ReadFile("../jsoncodec/testdata/nested.json")
	if err != nil {
		t.Fatal(err)
	}
	var st session.State
	if err := jsoncodec.New().Decode(doc, &st); err != nil {
		t.Fatal(err)
	}
	back := decode(t, encode(t, &st))
	var u map[string]any
	if err := back.Values["user"].(session.Raw).DecodeTo(&u); err != nil {
		t.Fatal(err)
	}
	if u["name"] != "Ada Lovelace" || u["id"] != 42.0 || !reflect.DeepEqual(u["roles"], []any{"admin", "dev"}) {
		t.Errorf("user = %#v", u)
	}
	var none any = 1
	if err := back.Values["none"].(session.Raw).DecodeTo(&none); err != nil || none != nil {
		t.Errorf("none = %#v, %v", none, err)
	}
	if !back.Cookie.Expires.Equal(*st.Cookie.Expires) || *back.Cookie.OriginalMaxAge != 60000 {
		t.Errorf("cookie = %+v", back.Cookie)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		st   *session.State
	}{
		{"nil state", nil},
		{"channel", &session.State{Values: map[string]any{"c": make(chan int)}}},
		{"func", &session.State{Values: map[string]any{"f": func() {}}}},
		{"no exported fields", &session.State{Values: map[string]any{"x": struct{ a int }{1}}}},
		{"unregistered interface", &session.State{Values: map[string]any{"x": []any{address{}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := gobcodec.New().Encode(tc.st); err == nil {
				t.Fatalf("Encode succeeded: %q", b)
			}
		})
	}
}

// legacy has the field names of the record type, so gob decodes it as one.
type legacy struct {
	Keys   []string
	Values [][]byte
}

func record(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte(gobcodec.Version)
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeErrors(t *testing.T) {
	good := encode(t, fullState())
	tests := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "empty", nil},
		{"version 0", "version 0", append([]byte{0}, good[1:]...)},
		{"version 2", "version 2", append([]byte{2}, good[1:]...)},
		{"json", "version 123", []byte(`{"cookie":{}}`)},
		{"version only", "corrupt", []byte{gobcodec.Version}},
		{"huge frame", "corrupt", []byte{gobcodec.Version, 0xf8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}},
		{"trailing data", "corrupt", append(bytes.Clone(good), 3, 1, 2, 3)},
		{"other type", "corrupt", record(t, "a string")},
		{"keys without values", "keys", record(t, legacy{Keys: []string{"a", "b"}, Values: [][]byte{{1, 2}}})},
		{"duplicate keys", "repeats", record(t, legacy{Keys: []string{"a", "a"}, Values: [][]byte{nil, nil}})},
		{"corrupt value", "value", record(t, legacy{Keys: []string{"a"}, Values: [][]byte{{9, 1}}})},
		{"unknown cookie bits", "unknown", record(t, struct{ Cookie struct{ Set uint8 } }{struct{ Set uint8 }{0x80}})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := session.State{Values: map[string]any{"keep": 1}}
			err := gobcodec.New().Decode(tc.data, &st)
			if err == nil {
				t.Fatal("Decode succeeded")
			}
			if !errors.Is(err, gobcodec.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if _, ok := st.Values["keep"]; !ok {
				t.Error("a failed Decode changed the State")
			}
		})
	}
	// Every truncation of a good record fails cleanly.
	for i := range len(good) - 1 {
		var st session.State
		if err := gobcodec.New().Decode(good[:i], &st); err == nil {
			t.Errorf("Decode of the first %d of %d bytes succeeded", i, len(good))
		}
	}
	if err := gobcodec.New().Decode(good, nil); err == nil {
		t.Error("Decode into a nil State succeeded")
	}
}

func TestName(t *testing.T) {
	var c session.Codec = gobcodec.New()
	if c.Name() != "gob" {
		t.Errorf("Name() = %q", c.Name())
	}
}

func FuzzDecode(f *testing.F) {
	c := gobcodec.New()
	for _, st := range []*session.State{{}, fullState(), {Values: map[string]any{"a": 1, "b": "x"}}} {
		b, err := c.Encode(st)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{gobcodec.Version})
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var st session.State
		if err := c.Decode(data, &st); err != nil {
			if !errors.Is(err, gobcodec.ErrMalformed) {
				t.Fatalf("Decode error %v does not wrap ErrMalformed", err)
			}
			return
		}
		b1, err := c.Encode(&st)
		if err != nil {
			t.Fatalf("Encode of a decoded record: %v", err)
		}
		var st2 session.State
		if err := c.Decode(b1, &st2); err != nil {
			t.Fatalf("Decode of Encode output: %v", err)
		}
		b2, err := c.Encode(&st2)
		if err != nil {
			t.Fatalf("second Encode: %v", err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable:\n%q\n%q", b1, b2)
		}
		// Reading hostile values must not panic either. Targets holding maps
		// are left out: gob preallocates maps from the size in the stream
		// (golang/go#79539), so a mutated count exhausts memory.
		for _, v := range st2.Values {
			var s []string
			_ = v.(session.Raw).DecodeTo(&s)
			var a address
			_ = v.(session.Raw).DecodeTo(&a)
			var n int64
			_ = v.(session.Raw).DecodeTo(&n)
		}
	})
}

type benchUser struct {
	ID    int64
	Email string
	Roles []string
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
	c, st := gobcodec.New(), benchState()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(st); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	c := gobcodec.New()
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

// BenchmarkDecodeGet adds reading the user struct, as a handler would.
func BenchmarkDecodeGet(b *testing.B) {
	c := gobcodec.New()
	data, err := c.Encode(benchState())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var st session.State
		if err := c.Decode(data, &st); err != nil {
			b.Fatal(err)
		}
		var u benchUser
		if err := st.Values["user"].(session.Raw).DecodeTo(&u); err != nil {
			b.Fatal(err)
		}
	}
}
