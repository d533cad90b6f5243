// Package gobcodec is a session codec built on encoding/gob, for deployments where
// only Go services read the sessions and values are rich Go types (structs
// with time.Time fields, maps with non-string keys, named numeric types).
// Its records cannot be shared with a Node application nor stored in a JSON
// column; use codecs/jsoncodec for that.
//
// A record is one version byte (currently 1) followed by a gob stream of the
// metadata, the cookie and the values. Each value is gob-encoded on its own
// and Decode leaves it as a Raw, decoded only when the application reads it
// with a type, so a concrete type read with session.Get needs no
// gob.Register. Reading a value as any (session.Get[any]) works for
// booleans, numbers (as int64, uint64, float64 or complex128), strings,
// []byte, map[string]any and []any; other values must be read with their
// Go type. The package registers map[string]any and []any with encoding/gob
// so that JSON-shaped data (from codecs/jsoncodec, say) can be stored.
//
// Records must come from a store only this application writes. Decode checks
// the version, the framing and the shape of a record and fails cleanly on
// garbage, but encoding/gob is not hardened against adversarial input: a
// crafted value read into a map type can make gob preallocate gigabytes
// (golang/go#79539; so in Go 1.26.8). Anyone able to write records can
// forge sessions anyway, so this matters only as defence in depth; use the
// JSON codec where records cross a trust boundary.
package gobcodec

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Version is the format version Encode writes, the record's first byte.
const Version = 1

// ErrMalformed reports a record that Decode cannot read: an unknown version,
// a truncated or corrupt stream. The errors Decode returns wrap it and never
// quote the record.
var ErrMalformed = errors.New("gob: malformed session record")

// ErrCycle reports a value that refers to itself (through pointers, maps,
// slices or interfaces), which encoding/gob cannot encode: it would recurse
// until the process dies.
var ErrCycle = errors.New("gob: value refers to itself")

func init() {
	gob.Register(map[string]any{})
	gob.Register([]any{})
}

// Codec is the gob codec. The zero Codec is ready to use and safe for
// concurrent use.
type Codec struct{}

// New returns a Codec.
func New() *Codec { return &Codec{} }

var _ session.Codec = (*Codec)(nil)

// Name returns "gob".
func (*Codec) Name() string { return "gob" }

// record is version 1 of the format. Fields may be added (gob ignores fields
// a reader does not know); changing the meaning of one needs a new Version.
type record struct {
	Created  time.Time
	Deadline time.Time
	Cookie   cookie
	Keys     []string
	Values   [][]byte // each a gob stream of one value; empty for nil
}

// cookie mirrors session.Cookie. gob flattens pointers and drops zero
// values, so a false *bool would come back nil: Set records which optional
// fields are present.
type cookie struct {
	Set            uint8
	OriginalMaxAge int64
	Partitioned    bool
	Priority       string
	Expires        time.Time
	Secure         bool
	HTTPOnly       bool
	Domain         string
	Path           string
	SameSite       string
}

const (
	hasMaxAge = 1 << iota
	hasPartitioned
	hasExpires
	hasSecure
	hasHTTPOnly
)

// Raw is a value that Decode left gob-encoded.
type Raw struct{ b []byte }

// DecodeTo decodes the value into dst, a non-nil pointer, with gob's rules of
// compatible types. A nil value sets *dst to its zero value. A value gob
// cannot decode into dst gives an error wrapping session.ErrType.
func (r Raw) DecodeTo(dst any) error {
	if len(r.b) == 0 {
		v := reflect.ValueOf(dst)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("gob: DecodeTo needs a non-nil pointer, not %T", dst)
		}
		v.Elem().SetZero()
		return nil
	}
	if p, ok := dst.(*any); ok {
		return r.decodeAny(p)
	}
	if err := decodeOne(r.b, dst); err != nil {
		return fmt.Errorf("gob: value cannot be read as %T: %w (%w)", dst, session.ErrType, err)
	}
	return nil
}

// decodeOne decodes the single-value gob stream b into dst, refusing trailing
// data and frames longer than b (which gob would allocate before reading).
func decodeOne(b []byte, dst any) error {
	if err := checkFrames(b); err != nil {
		return err
	}
	rd := bytes.NewReader(b)
	if err := gob.NewDecoder(rd).Decode(dst); err != nil {
		return err
	}
	if rd.Len() != 0 {
		return errors.New("trailing data after the value")
	}
	return nil
}

// anyTargets are tried, in order, for a composite value read as any.
var anyTargets = []func() any{
	func() any { return new(map[string]any) },
	func() any { return new([]any) },
}

func (r Raw) decodeAny(dst *any) error {
	var target any
	// A basic value's stream starts with its predefined type id (the ids are
	// part of gob's documented wire format); a composite one starts with a
	// type definition (a negative id).
	switch id, ok := firstTypeID(r.b); {
	case !ok:
		return fmt.Errorf("gob: value is corrupt: %w", ErrMalformed)
	case id == 1:
		target = new(bool)
	case id == 2:
		target = new(int64)
	case id == 3:
		target = new(uint64)
	case id == 4:
		target = new(float64)
	case id == 5:
		target = new([]byte)
	case id == 6:
		target = new(string)
	case id == 7:
		target = new(complex128)
	}
	if target != nil {
		if err := decodeOne(r.b, target); err != nil {
			return fmt.Errorf("gob: value cannot be read as any: %w (%w)", session.ErrType, err)
		}
		*dst = reflect.ValueOf(target).Elem().Interface()
		return nil
	}
	for _, f := range anyTargets {
		t := f()
		if decodeOne(r.b, t) == nil {
			*dst = reflect.ValueOf(t).Elem().Interface()
			return nil
		}
	}
	return fmt.Errorf("gob: a structured value must be read with its Go type, not any: %w", session.ErrType)
}

// Encode writes st as a version-1 record. Each value must be something gob
// can encode (exported fields, no funcs or channels); a nil value is kept as
// nil. A Raw from another codec is read into an any and gob-encoded.
func (*Codec) Encode(st *session.State) ([]byte, error) {
	if st == nil {
		return nil, errors.New("gob: Encode of a nil State")
	}
	rec := record{
		Created:  st.Created,
		Deadline: st.Deadline,
		Cookie:   fromSession(&st.Cookie),
		Keys:     make([]string, 0, len(st.Values)),
	}
	for k := range st.Values {
		rec.Keys = append(rec.Keys, k)
	}
	slices.Sort(rec.Keys)
	rec.Values = make([][]byte, len(rec.Keys))
	var vb bytes.Buffer
	for i, k := range rec.Keys {
		b, err := encodeValue(&vb, st.Values[k])
		if err != nil {
			return nil, fmt.Errorf("gob: value %q: %w", k, err)
		}
		rec.Values[i] = b
	}
	var out bytes.Buffer
	out.Grow(256 + vb.Len())
	out.WriteByte(Version)
	if err := gob.NewEncoder(&out).Encode(&rec); err != nil {
		return nil, fmt.Errorf("gob: encode record: %w", err)
	}
	return out.Bytes(), nil
}

// encodeValue gob-encodes v on its own, using vb as scratch space, and
// returns a copy of the bytes.
func encodeValue(vb *bytes.Buffer, v any) ([]byte, error) {
	switch r := v.(type) {
	case Raw:
		return r.b, nil
	case *Raw:
		if r == nil {
			return nil, nil
		}
		return r.b, nil
	case session.Raw:
		var x any
		if err := r.DecodeTo(&x); err != nil {
			return nil, fmt.Errorf("value left encoded by another codec cannot be read as any: %w", err)
		}
		v = x
	}
	if v == nil {
		return nil, nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, nil
	}
	if err := checkCycles(v); err != nil {
		return nil, err
	}
	vb.Reset()
	if err := gob.NewEncoder(vb).Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(vb.Bytes()), nil
}

// Decode reads a record into st, replacing what st held. Every value is left
// as a Raw. Errors wrap ErrMalformed.
func (*Codec) Decode(data []byte, st *session.State) error {
	if st == nil {
		return errors.New("gob: Decode into a nil State")
	}
	if len(data) == 0 {
		return malformed("the record is empty")
	}
	if data[0] != Version {
		return malformed(fmt.Sprintf("unknown format version %d (this build reads version %d)", data[0], Version))
	}
	var rec record
	if err := decodeOne(data[1:], &rec); err != nil {
		return malformed("the record is corrupt or truncated")
	}
	if len(rec.Keys) != len(rec.Values) {
		return malformed(fmt.Sprintf("the record has %d keys but %d values", len(rec.Keys), len(rec.Values)))
	}
	out := session.State{
		Created:  rec.Created,
		Deadline: rec.Deadline,
		Values:   make(map[string]any, len(rec.Keys)),
	}
	if err := toSession(&rec.Cookie, &out.Cookie); err != nil {
		return err
	}
	for i, k := range rec.Keys {
		if _, dup := out.Values[k]; dup {
			return malformed("the record repeats a key")
		}
		b := rec.Values[i]
		if len(b) > 0 {
			if err := checkFrames(b); err != nil {
				return malformed("a value is corrupt or truncated")
			}
		}
		out.Values[k] = Raw{b: b}
	}
	*st = out
	return nil
}

func malformed(why string) error { return fmt.Errorf("%w: %s", ErrMalformed, why) }

func fromSession(c *session.Cookie) cookie {
	w := cookie{Priority: c.Priority, Domain: c.Domain, Path: c.Path, SameSite: c.SameSite}
	if c.OriginalMaxAge != nil {
		w.Set |= hasMaxAge
		w.OriginalMaxAge = *c.OriginalMaxAge
	}
	if c.Partitioned != nil {
		w.Set |= hasPartitioned
		w.Partitioned = *c.Partitioned
	}
	if c.Expires != nil {
		w.Set |= hasExpires
		w.Expires = *c.Expires
	}
	if c.Secure != nil {
		w.Set |= hasSecure
		w.Secure = *c.Secure
	}
	if c.HTTPOnly != nil {
		w.Set |= hasHTTPOnly
		w.HTTPOnly = *c.HTTPOnly
	}
	return w
}

func toSession(w *cookie, c *session.Cookie) error {
	if w.Set&^(hasMaxAge|hasPartitioned|hasExpires|hasSecure|hasHTTPOnly) != 0 {
		return malformed("the cookie has unknown fields set")
	}
	*c = session.Cookie{Priority: w.Priority, Domain: w.Domain, Path: w.Path, SameSite: w.SameSite}
	if w.Set&hasMaxAge != 0 {
		c.OriginalMaxAge = &w.OriginalMaxAge
	}
	if w.Set&hasPartitioned != 0 {
		c.Partitioned = &w.Partitioned
	}
	if w.Set&hasExpires != 0 {
		c.Expires = &w.Expires
	}
	if w.Set&hasSecure != 0 {
		c.Secure = &w.Secure
	}
	if w.Set&hasHTTPOnly != 0 {
		c.HTTPOnly = &w.HTTPOnly
	}
	return nil
}

// readUint reads one unsigned integer in gob's encoding: a byte below 128 is
// the value; otherwise it is the negated count of big-endian bytes that
// follow.
func readUint(b []byte) (v uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1, true
	}
	size := 256 - int(b[0]) // the negated count, as a byte
	if size > 8 || size+1 > len(b) {
		return 0, 0, false
	}
	for _, c := range b[1 : 1+size] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + size, true
}

// checkFrames walks the length-prefixed messages of a gob stream and fails
// when one claims more bytes than b holds: gob would allocate the claimed
// size before finding the data missing.
func checkFrames(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty stream")
	}
	for len(b) > 0 {
		size, n, ok := readUint(b)
		if !ok || size == 0 || size > uint64(len(b)-n) {
			return errors.New("bad message length")
		}
		b = b[n+int(size):]
	}
	return nil
}

// firstTypeID returns the type id that opens the first message of a gob
// stream: negative for a type definition, positive for a value.
func firstTypeID(b []byte) (int64, bool) {
	_, n, ok := readUint(b)
	if !ok {
		return 0, false
	}
	u, _, ok := readUint(b[n:])
	if !ok {
		return 0, false
	}
	if u&1 != 0 {
		return ^int64(u >> 1), true
	}
	return int64(u >> 1), true
}
