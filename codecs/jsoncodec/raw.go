package jsoncodec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sessionkit/sessionkit/session"
)

// Raw is a value that Decode left as JSON text. Its zero value reads as JSON
// null.
type Raw struct {
	// A single pointer makes Raw pointer-shaped, so storing one in State.Values
	// (an interface) costs no allocation; Decode points every Raw of a
	// document into one slice.
	p *string
}

// DecodeTo decodes the value into dst, a non-nil pointer, as json.Unmarshal
// does. A value whose JSON type does not fit dst gives an error wrapping
// session.ErrType. Scalars read into *int, *int64, *float64, *string, *bool
// and an empty *any take a path without reflection and give the same
// results and errors; everything else goes through encoding/json.
func (r Raw) DecodeTo(dst any) error {
	if done, err := decodeScalar(r.text(), dst); done {
		return err
	}
	return r.unmarshal(dst)
}

// unmarshal is DecodeTo through encoding/json, for every dst.
func (r Raw) unmarshal(dst any) error {
	err := json.Unmarshal([]byte(r.text()), dst)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// te.Error() may quote a number from the session; name only the types.
		if te.Field != "" {
			return fmt.Errorf("json: field %s of %T wants %v: %w", te.Field, dst, te.Type, session.ErrType)
		}
		return typeError(dst)
	}
	return err
}

func typeError(dst any) error {
	return fmt.Errorf("json: value does not fit %T: %w", dst, session.ErrType)
}

// decodeScalar does what unmarshal does, without reflection, for the targets
// session values are most often read into; done is false for the others,
// including a string with escapes and an *any already holding a value (which
// encoding/json may decode into rather than replace). v is valid JSON. As with
// encoding/json, null leaves a non-interface target as it was, and so does an
// error.
func decodeScalar(v string, dst any) (done bool, err error) {
	switch d := dst.(type) {
	case *int:
		if d == nil {
			return false, nil
		}
		n, null, err := parseInt(v, strconv.IntSize, dst)
		if err == nil && !null {
			*d = int(n)
		}
		return true, err
	case *int64:
		if d == nil {
			return false, nil
		}
		n, null, err := parseInt(v, 64, dst)
		if err == nil && !null {
			*d = n
		}
		return true, err
	case *float64:
		if d == nil {
			return false, nil
		}
		switch kind(v) {
		case 'n':
			return true, nil
		case '0':
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return true, typeError(dst)
			}
			*d = f
			return true, nil
		}
		return true, typeError(dst)
	case *string:
		if d == nil {
			return false, nil
		}
		switch kind(v) {
		case 'n':
			return true, nil
		case '"':
			if strings.IndexByte(v, '\\') >= 0 {
				return false, nil
			}
			*d = v[1 : len(v)-1]
			return true, nil
		}
		return true, typeError(dst)
	case *bool:
		if d == nil {
			return false, nil
		}
		switch v {
		case "null":
		case "true":
			*d = true
		case "false":
			*d = false
		default:
			return true, typeError(dst)
		}
		return true, nil
	case *any:
		if d == nil || *d != nil {
			return false, nil
		}
		switch kind(v) {
		case 'n':
		case 't':
			*d = v == "true"
		case '"':
			if strings.IndexByte(v, '\\') >= 0 {
				return false, nil
			}
			*d = v[1 : len(v)-1]
		case '0':
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return true, typeError(dst)
			}
			*d = f
		default:
			return false, nil
		}
		return true, nil
	}
	return false, nil
}

// kind classifies the valid JSON value v: 'n' null, 't' true or false, '"'
// string, '0' number, '{' object or array.
func kind(v string) byte {
	switch v[0] {
	case 'n':
		return 'n'
	case 't', 'f':
		return 't'
	case '"':
		return '"'
	case '{', '[':
		return '{'
	}
	return '0'
}

// parseInt reads v into a signed integer of bits bits as encoding/json does:
// a fraction, an exponent or a value out of range is a type error.
func parseInt(v string, bits int, dst any) (n int64, null bool, err error) {
	switch kind(v) {
	case 'n':
		return 0, true, nil
	case '0':
		if n, ok := smallInt(v); ok && bits == 64 {
			return n, false, nil
		}
		if n, err := strconv.ParseInt(v, 10, bits); err == nil {
			return n, false, nil
		}
	}
	return 0, false, typeError(dst)
}

// MarshalJSON returns the JSON text, so a Raw inside another value encodes as
// the value it holds.
func (r Raw) MarshalJSON() ([]byte, error) { return []byte(r.text()), nil }

func (r Raw) text() string {
	if r.p == nil {
		return "null"
	}
	return *r.p
}
