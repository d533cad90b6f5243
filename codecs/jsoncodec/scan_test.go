package jsoncodec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// reference is what Decode accepted before it had its own scanner, and what
// the scanner must accept: encoding/json.Valid, which lets invalid UTF-8
// through inside strings, and utf8.Valid.
func reference(b []byte) bool { return utf8.Valid(b) && json.Valid(b) }

// isObjectDoc reports whether the decoder takes b as a document.
func isObjectDoc(b []byte) bool {
	d := decoder{doc: string(b)}
	return d.document(make(map[string]any))
}

var scanCases = []string{
	``, ` `, `{}`, `[]`, ` {} `, "\t\n\r{}\r\n\t", `{`, `}`, `[`, `]`, `{]`, `[}`, `{}}`, `{}{}`, `{},`,
	`null`, `nul`, `nulll`, `true`, `tru`, `truex`, `false`, `fals`, `True`, `NaN`, `Infinity`,
	`0`, `-0`, `00`, `01`, `-01`, `1`, `-`, `+1`, `.5`, `5.`, `5.0`, `5.0e`, `5e+`, `5e-3`, `5E+30`, `1e01`,
	`-1.25e-10`, `1.5.5`, `0x10`, `1_000`, `12345678901234567890123`, `1 2`, `1,`,
	`""`, `"`, `"a`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\a"`, `"\x41"`, `"\u"`, `"\u12"`,
	`"\u12G4"`, `"\uABCD"`, `"\uabcd"`, `"\ud800"`, `"\udc00\ud800"`, `"\ud83d\ude00"`, "\"\x00\"", "\"\x1f\"",
	"\"\x7f\"", "\"tab\there\"", `"é"`, "\"\xff\"", "\"\xc3\"", "\"\xc3\xa9\"", "\"\xed\xa0\x80\"",
	"\"\xef\xbf\xbd\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x80\xa8\"", "\xef\xbb\xbf{}", "{}\x00",
	`"0123456789abcdef0123456789"`, `"0123456\"89abcdef"`, `"01234567\\9abcdef"`, "\"0123456789\x01bcdef\"",
	"\"01234567é9abcdef\"", `"01234567`,
	`{"a":1}`, `{"a" : 1 , "b" : [ 1 , 2 ] }`, `{"a":1,}`, `{,"a":1}`, `{"a"}`, `{"a":}`, `{"a"1}`, `{a:1}`,
	`{"a":1 "b":2}`, `{1:2}`, `{"a":[1,2,]}`, `{"a":[,1]}`, `[1,[2,[3,{"b":{}}]]]`, `[[]`, `[]]`,
	`{"a":{"b":{"c":[true,false,null,"x",-1.5e3]}}}`, `{"cookie":{"path":"/"},"__sessionkit":{"created":1}}`,
	`{"cookie":{"path":}}`, `{"cookie":{"path":"/"}`, `{"cookie":[1,}`, `{"__sessionkit":{"a":[}}`,
	`{"cook\u0069e":{"path":"/"}}`, `{"a":1}x`, `{"a":1} `, `{"\ud800":1}`, "{\"a\xff\":1}",
}

// nested returns n arrays, or objects when obj, one inside the other, in an
// object member when member.
func nested(n int, obj, member bool) string {
	open, close := "[", "]"
	if obj {
		open, close = `{"k":`, "}"
	}
	inner := strings.Repeat(open, n) + "0" + strings.Repeat(close, n)
	if obj {
		inner = strings.Repeat(open, n) + "[]" + strings.Repeat(close, n)
	}
	if member {
		return `{"v":` + inner + `}`
	}
	return inner
}

func TestScannerMatchesEncodingJSON(t *testing.T) {
	cases := append([]string(nil), scanCases...)
	for _, n := range []int{63, 64, 65, 128, 129, maxDepth - 2, maxDepth - 1, maxDepth, maxDepth + 1} {
		for _, obj := range []bool{false, true} {
			cases = append(cases, nested(n, obj, false), nested(n, obj, true))
		}
	}
	// Mixed nesting across the 64-level word of the bit stack.
	mixed := strings.Repeat(`[{"a":`, 40) + "1" + strings.Repeat("}]", 40)
	cases = append(cases, mixed, `{"v":`+mixed+`}`, mixed[:len(mixed)-1]+"]", mixed[:len(mixed)-2]+"}}")
	for _, c := range cases {
		b := []byte(c)
		want := reference(b)
		if got := valid(c); got != want {
			t.Errorf("valid(%.80q) = %v, encoding/json says %v", c, got, want)
		}
		wantDoc := want && strings.TrimLeft(c, " \t\r\n")[0] == '{'
		if got := isObjectDoc(b); got != wantDoc {
			t.Errorf("document(%.80q) = %v, want %v", c, got, wantDoc)
		}
	}
}

func FuzzScanner(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(nested(70, true, true)))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := reference(b)
		if got := valid(string(b)); got != want {
			t.Fatalf("valid(%q) = %v, encoding/json says %v", b, got, want)
		}
		wantDoc := want && strings.TrimLeft(string(b), " \t\r\n")[0] == '{'
		if got := isObjectDoc(b); got != wantDoc {
			t.Fatalf("document(%q) = %v, want %v", b, got, wantDoc)
		}
	})
}

// targets returns fresh destinations of every kind DecodeTo has a fast path
// for, each holding a value beforehand so that leaving it alone shows.
func targets() []any {
	return []any{
		ptrTo(7), ptrTo[int64](-7), ptrTo(7.5), ptrTo("before"), ptrTo(true), ptrTo(false),
		new(any), ptrTo[any]("held"), ptrTo[any](ptrTo(3)),
		(*int)(nil), (*string)(nil), (*any)(nil),
		ptrTo[int32](1), ptrTo[uint](1), ptrTo[float32](1), new([]any), new(map[string]any),
	}
}

func ptrTo[T any](v T) *T { return &v }

// sameDecode checks DecodeTo against encoding/json for the JSON text v.
func sameDecode(t *testing.T, v string) {
	t.Helper()
	r := Raw{&v}
	got, want := targets(), targets()
	for i := range got {
		gerr := r.DecodeTo(got[i])
		werr := r.unmarshal(want[i])
		if gerr != nil && len(v) >= 5 && strings.Contains(gerr.Error(), v) {
			t.Errorf("DecodeTo(%q into %T) error quotes the value: %v", v, got[i], gerr)
		}
		if fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Errorf("DecodeTo(%q into %T) error = %v, encoding/json %v", v, got[i], gerr, werr)
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("DecodeTo(%q into %T) = %s, encoding/json %s", v, got[i], show(got[i]), show(want[i]))
		}
	}
}

func show(p any) string {
	rv := reflect.ValueOf(p)
	if rv.IsNil() {
		return "nil"
	}
	return fmt.Sprintf("%#v", rv.Elem().Interface())
}

func TestDecodeToMatchesEncodingJSON(t *testing.T) {
	for _, v := range []string{
		`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `42`, `1.5`, `-1.5`, `1e3`, `1E-3`, `1.0`, `2.5e1`,
		`9007199254740993`, `9223372036854775807`, `9223372036854775808`, `-9223372036854775808`,
		`-9223372036854775809`, `1e308`, `1e309`, `-1e400`, `4.9e-324`, `1e-400`, `2147483648`, `4294967296`,
		`""`, `"x"`, `"héllo"`, `"a\nb"`, `"\u00e9"`, `"\ud800"`, `"12"`, `"true"`, `"null"`,
		`[]`, `[1]`, `{}`, `{"a":1}`, `[null]`,
	} {
		sameDecode(t, v)
	}
	var zero Raw // reads as null
	n := 5
	if err := zero.DecodeTo(&n); err != nil || n != 5 {
		t.Errorf("zero Raw into *int = %d, %v; want 5 untouched", n, err)
	}
}

func FuzzDecodeTo(f *testing.F) {
	for _, v := range []string{`null`, `true`, `1`, `-1.5e3`, `9223372036854775808`, `1e400`, `"s"`, `"\n"`, `[1]`, `{"a":"b"}`} {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Decode trims the whitespace around a value; so does this.
		v := strings.Trim(string(b), " \t\r\n")
		if !valid(v) {
			return
		}
		sameDecode(t, v)
	})
}

func TestParseMillisZ(t *testing.T) {
	for _, s := range []string{
		"2026-01-03T03:04:05.678Z", "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
		"2024-02-29T00:00:00.000Z", "2000-02-29T00:00:00.000Z", "1900-02-29T00:00:00.000Z", "2026-02-29T00:00:00.000Z",
		"2026-04-31T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-00-01T00:00:00.000Z", "2026-01-00T00:00:00.000Z",
		"2026-01-01T24:00:00.000Z", "2026-01-01T00:60:00.000Z", "2026-01-01T00:00:60.000Z", "2026-01-01t00:00:00.000Z",
		"2026-01-01T00:00:00.000z", "2026-01-01T00:00:00,000Z", "2026-01-01T00:00:00.0000Z", "2026-01-01T00:00:00.00Z",
		"2026-01-01T00:00:00.000+00:00", "+026-01-01T00:00:00.000Z", "2026-1-01T00:00:00.000Z", "2026-01-01T00:00:00.-00Z",
	} {
		sameTime(t, s)
	}
}

func TestParseMillisZCalendar(t *testing.T) {
	for _, year := range []int{0, 1, 3, 4, 99, 100, 399, 400, 401, 1600, 1899, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999} {
		for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
			want := d.Add(23*time.Hour + 59*time.Minute + 59*time.Second + 999*time.Millisecond)
			s := want.Format("2006-01-02T15:04:05.000Z")
			if got, ok := parseMillisZ(s); !ok || got != want {
				t.Fatalf("parseMillisZ(%q) = %v, %v; want %v", s, got, ok, want)
			}
		}
	}
}

// sameTime checks that parseMillisZ takes only what time.Parse takes, with
// the same result.
func sameTime(t *testing.T, s string) {
	t.Helper()
	got, ok := parseMillisZ(s)
	want, err := time.Parse(time.RFC3339Nano, s)
	if ok && (err != nil || !got.Equal(want) || got.UTC() != want.UTC()) {
		t.Errorf("parseMillisZ(%q) = %v, time.Parse %v, %v", s, got, want, err)
	}
	// time.Parse also takes a comma before the fraction; that is left to it.
	if !ok && err == nil && len(s) == 24 && s[19] == '.' && s[23] == 'Z' {
		t.Errorf("parseMillisZ(%q) refused what time.Parse reads as %v", s, want)
	}
}

func FuzzParseMillisZ(f *testing.F) {
	f.Add("2026-01-03T03:04:05.678Z")
	f.Add("2024-02-29T23:59:59.999Z")
	f.Fuzz(sameTime)
}
