package jsoncodec

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/session"
)

// Decode reads an express-session document into st, replacing what st held.
// Every value other than the cookie and MetaKey is left as a Raw. A document
// without a cookie decodes with an empty Cookie. As with JSON.parse, the last
// of repeated keys wins. Errors wrap ErrMalformed.
func (*Codec) Decode(data []byte, st *session.State) error {
	if st == nil {
		return errors.New("json: Decode into a nil State")
	}
	// One copy of the document backs every key, Raw and cookie string: the
	// caller keeps data.
	d := decoder{doc: string(data), block: new(block)}
	d.texts = d.block.texts[:0]
	values := make(map[string]any, 8)
	if !d.document(values) {
		return invalid(data)
	}
	out := session.State{Values: values}
	if d.cookie.present {
		if err := d.cookie.decode(&out.Cookie, &d.block.cookie); err != nil {
			return err
		}
	}
	if d.meta.present {
		var err error
		if out.Created, out.Deadline, err = d.meta.decode(); err != nil {
			return err
		}
	}
	*st = out
	return nil
}

func malformed(why string) error { return fmt.Errorf("%w: %s", ErrMalformed, why) }

// invalid says why the scanner refused data; only called on failure, so it
// may take the slow road to the byte offset encoding/json reports.
func invalid(data []byte) error {
	if !utf8.Valid(data) {
		return malformed("the document is not valid UTF-8")
	}
	if !json.Valid(data) {
		var se *json.SyntaxError
		if errors.As(json.Unmarshal(data, new(struct{})), &se) {
			return malformed(fmt.Sprintf("the document is not valid JSON (syntax error at byte %d)", se.Offset))
		}
		return malformed("the document is not valid JSON")
	}
	return malformed("the document is not a JSON object")
}

// decoder validates a document and takes it apart in the same pass: values
// become Raws as they are met, and the members of the cookie and MetaKey
// objects land in fixed slots, read once the whole document is known to be
// valid (so a syntax error is reported before a bad cookie, as ever).
type decoder struct {
	doc    string
	block  *block
	texts  []string // what the Raws point at, in block for the first eight
	cookie cookieFields
	meta   metaFields
}

// block is what a Decode allocates beside the document and the map, in one
// allocation.
type block struct {
	cookie cookieScalars
	texts  [8]string
}

// cookieFields holds the JSON text of each cookie member; "" when absent,
// which reads as null does.
type cookieFields struct {
	present, object bool
	originalMaxAge, partitioned, priority, expires, secure, httpOnly,
	domain, path, sameSite string
}

type metaFields struct {
	present, object   bool
	created, deadline string
}

// document scans the top-level object, filling values; false when the
// document is not one valid JSON object.
func (d *decoder) document(values map[string]any) bool {
	s := d.doc
	i := skipSpace(s, 0)
	if at(s, i) != '{' {
		return false
	}
	if i = skipSpace(s, i+1); at(s, i) == '}' {
		return skipSpace(s, i+1) == len(s)
	}
	for {
		var key string
		if key, i = d.key(i); i < 0 {
			return false
		}
		start := i
		switch key {
		case "cookie":
			d.cookie = cookieFields{present: true, object: at(s, i) == '{'}
			if d.cookie.object {
				i = d.members(i, &d.cookie, nil)
			} else {
				i = skipValue(s, i, 1)
			}
		case MetaKey:
			d.meta = metaFields{present: true, object: at(s, i) == '{'}
			if d.meta.object {
				i = d.members(i, nil, &d.meta)
			} else {
				i = skipValue(s, i, 1)
			}
		default:
			if i = skipValue(s, i, 1); i < 0 {
				return false
			}
			// Earlier Raws keep pointing into the old array if this grows it.
			d.texts = append(d.texts, s[start:i])
			values[key] = Raw{&d.texts[len(d.texts)-1]}
		}
		if i < 0 {
			return false
		}
		switch i = skipSpace(s, i); at(s, i) {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			return skipSpace(s, i+1) == len(s)
		default:
			return false
		}
	}
}

// key reads `"key" :` at d.doc[i] and returns the key's text and the index of
// the value.
func (d *decoder) key(i int) (string, int) {
	s := d.doc
	if at(s, i) != '"' {
		return "", -1
	}
	end, escaped := skipString(s, i)
	if end < 0 {
		return "", -1
	}
	key := s[i+1 : end-1]
	if escaped {
		key = unquote(s[i:end])
	}
	if end = skipSpace(s, end); at(s, end) != ':' {
		return "", -1
	}
	return key, skipSpace(s, end+1)
}

// members scans the object at d.doc[i], the value of a top-level member,
// keeping the text of the members that c or m names (one of them is nil).
func (d *decoder) members(i int, c *cookieFields, m *metaFields) int {
	s := d.doc
	if i = skipSpace(s, i+1); at(s, i) == '}' {
		return i + 1
	}
	for {
		var key string
		if key, i = d.key(i); i < 0 {
			return -1
		}
		start := i
		if i = skipValue(s, i, 2); i < 0 {
			return -1
		}
		v := s[start:i]
		if c != nil {
			switch key {
			case "originalMaxAge":
				c.originalMaxAge = v
			case "partitioned":
				c.partitioned = v
			case "priority":
				c.priority = v
			case "expires":
				c.expires = v
			case "secure":
				c.secure = v
			case "httpOnly":
				c.httpOnly = v
			case "domain":
				c.domain = v
			case "path":
				c.path = v
			case "sameSite":
				c.sameSite = v
			}
		} else {
			switch key {
			case "created":
				m.created = v
			case "deadline":
				m.deadline = v
			}
		}
		switch i = skipSpace(s, i); at(s, i) {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// unquote returns the text of the valid JSON string q that holds escapes.
func unquote(q string) string {
	var s string
	_ = json.Unmarshal([]byte(q), &s) // cannot fail: q is a valid JSON string
	return s
}

// text returns the text of the valid JSON string q.
func text(q string) string {
	if strings.IndexByte(q, '\\') < 0 {
		return q[1 : len(q)-1]
	}
	return unquote(q)
}

func isNull(v string) bool { return v == "" || v == "null" }

// cookieScalars holds the values the cookie's pointer fields point at.
type cookieScalars struct {
	originalMaxAge                int64
	expires                       time.Time
	partitioned, secure, httpOnly bool
}

// decode reads the cookie into c, pointing its pointer fields into sc.
func (f *cookieFields) decode(c *session.Cookie, sc *cookieScalars) error {
	if !f.object {
		return malformed("cookie is not an object")
	}
	if v := f.originalMaxAge; !isNull(v) {
		n, err := decodeInt(v)
		if err != nil {
			return malformed("cookie.originalMaxAge " + err.Error())
		}
		c.OriginalMaxAge = &sc.originalMaxAge
		*c.OriginalMaxAge = n
	}
	var err error
	if c.Partitioned, err = decodeBool(f.partitioned, "partitioned", &sc.partitioned); err != nil {
		return err
	}
	if c.Secure, err = decodeBool(f.secure, "secure", &sc.secure); err != nil {
		return err
	}
	if c.HTTPOnly, err = decodeBool(f.httpOnly, "httpOnly", &sc.httpOnly); err != nil {
		return err
	}
	if c.Priority, err = decodeString(f.priority, "priority"); err != nil {
		return err
	}
	if c.Domain, err = decodeString(f.domain, "domain"); err != nil {
		return err
	}
	if c.Path, err = decodeString(f.path, "path"); err != nil {
		return err
	}
	if v := f.expires; !isNull(v) {
		if v[0] != '"' {
			return malformed("cookie.expires is not a string")
		}
		t, err := parseExpires(text(v))
		if err != nil {
			return malformed("cookie.expires is not an ISO-8601 date")
		}
		if t = t.UTC(); t.Year() < 0 || t.Year() > 9999 {
			return malformed("cookie.expires is outside years 0000 to 9999")
		}
		c.Expires = &sc.expires
		*c.Expires = t
	}
	switch v := f.sameSite; v {
	case "", "null", "false":
	case "true":
		// The cookie module reads true as Strict.
		c.SameSite = "strict"
	default:
		s, err := decodeString(v, "sameSite")
		if err != nil {
			return err
		}
		switch strings.ToLower(s) {
		case "strict":
			c.SameSite = "strict"
		case "lax":
			c.SameSite = "lax"
		case "none":
			c.SameSite = "none"
		default:
			return malformed(`cookie.sameSite is not "strict", "lax", "none" or a boolean`)
		}
	}
	return nil
}

// decodeBool reads v into *b, returning b, or nil for null.
func decodeBool(v, name string, b *bool) (*bool, error) {
	switch v {
	case "", "null":
		return nil, nil
	case "true":
		*b = true
	case "false":
		*b = false
	default:
		return nil, malformed("cookie." + name + " is not a boolean")
	}
	return b, nil
}

func decodeString(v, name string) (string, error) {
	if isNull(v) {
		return "", nil
	}
	if v[0] != '"' {
		return "", malformed("cookie." + name + " is not a string")
	}
	return text(v), nil
}

// parseExpires reads the form express-session writes,
// YYYY-MM-DDTHH:MM:SS.mmmZ, without time.Parse, and any other RFC 3339 time
// with it.
func parseExpires(s string) (time.Time, error) {
	if t, ok := parseMillisZ(s); ok {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// parseMillisZ parses YYYY-MM-DDTHH:MM:SS.mmmZ with the range checks
// time.Parse makes; ok is false for anything else.
func parseMillisZ(s string) (t time.Time, ok bool) {
	if len(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return t, false
	}
	num := func(i, j int) int {
		n := 0
		for ; i < j; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec, ms := num(11, 13), num(14, 16), num(17, 19), num(20, 23)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 || ms < 0 {
		return t, false
	}
	// Days since 1970-01-01 of the proleptic Gregorian date, by eras of 400
	// years that start on March 1 (year ≥ 0 here, so no negative division).
	y := year
	if month <= 2 {
		y--
	}
	era := (y + 400) / 400 // shifted by one era so that y = -1 divides down
	yoe := y + 400 - era*400
	mp := (month + 9) % 12 // March is 0
	doe := yoe*365 + yoe/4 - yoe/100 + (153*mp+2)/5 + day - 1
	days := (era-1)*146097 + doe - 719468
	return time.Unix(int64(days)*86400+int64(hour*3600+minute*60+sec), int64(ms)*1e6).UTC(), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// decodeInt reads a JSON number as an int64, truncating a fraction as a
// JavaScript Date does with milliseconds.
func decodeInt(v string) (int64, error) {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, errors.New("is not a number")
	}
	if n, ok := smallInt(v); ok {
		return n, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, errors.New("is out of range")
	}
	return int64(f), nil
}

// smallInt reads an integer of at most 18 digits, which cannot overflow an
// int64, without strconv's generality; ok is false for anything else.
func smallInt(v string) (n int64, ok bool) {
	d := v
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 18 {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(d) < len(v) {
		n = -n
	}
	return n, true
}

func (f *metaFields) decode() (created, deadline time.Time, err error) {
	if !f.object {
		return created, deadline, malformed(MetaKey + " is not an object")
	}
	if created, err = readMillis(f.created, "created"); err != nil {
		return
	}
	deadline, err = readMillis(f.deadline, "deadline")
	return
}

func readMillis(v, name string) (time.Time, error) {
	if isNull(v) {
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
