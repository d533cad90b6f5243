package session

import "time"

// Codec turns a session's State into bytes and back.
//
// Decode may leave values encoded, as a Raw, until they are read with a type
// (see Get); Encode must write a Raw it finds back unchanged, so values that
// another application wrote survive a save they did not take part in.
type Codec interface {
	// Name identifies the format, such as "json" or "gob".
	Name() string
	Encode(st *State) ([]byte, error)
	Decode(data []byte, st *State) error
}

// Raw is a value that a Codec left encoded until it is read with a type.
type Raw interface {
	// DecodeTo decodes the value into dst, a non-nil pointer.
	DecodeTo(dst any) error
}

// State is what a Codec encodes: the session's values and the metadata the
// Manager keeps beside them.
type State struct {
	// Values holds the session's values by top-level key. A value is either a
	// Go value put by the application or a Raw left by Decode.
	Values map[string]any
	// Created is when the session was first saved by this library; zero when
	// unknown (a session written by another application).
	Created time.Time
	// Deadline is the absolute deadline after which the session is invalid
	// whatever its activity; zero when none is recorded.
	Deadline time.Time
	// Cookie mirrors the browser cookie's settings, in the shape
	// express-session keeps in each record.
	Cookie Cookie
}

// Cookie is the cookie object express-session stores with every session.
// Unset optional fields are nil or empty and are left out when encoded.
type Cookie struct {
	// OriginalMaxAge is the cookie's lifetime in milliseconds; nil for a
	// browser-session cookie.
	OriginalMaxAge *int64
	Partitioned    *bool
	Priority       string
	// Expires is the cookie's expiry; nil for a browser-session cookie.
	Expires  *time.Time
	Secure   *bool
	HTTPOnly *bool
	Domain   string
	Path     string
	// SameSite is "strict", "lax" or "none", or empty when unset.
	SameSite string
}
