package jsoncodec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/session"
)

// reserved lists the top-level keys that express-session drops or
// overwrites when it loads or saves a session (its own fields, the Session
// methods and the names of Object.prototype), and MetaKey. A value put under
// one of them would be lost on the Node side.
var reserved = map[string]bool{
	MetaKey: true,
	// express-session's Session fields and methods.
	"cookie": true, "id": true, "req": true, "regenerate": true, "destroy": true,
	"reload": true, "save": true, "touch": true, "resetMaxAge": true,
	// Object.prototype.
	"constructor": true, "__proto__": true, "hasOwnProperty": true,
	"isPrototypeOf": true, "propertyIsEnumerable": true, "toLocaleString": true,
	"toString": true, "valueOf": true, "__defineGetter__": true,
	"__defineSetter__": true, "__lookupGetter__": true, "__lookupSetter__": true,
}

// CheckKey returns an error wrapping session.ErrReserved when key is one
// express-session drops or overwrites, or MetaKey, and one wrapping
// session.ErrKey when key is not valid UTF-8: JSON writes each invalid byte
// as U+FFFD, so "k\xff" and "k\xfe" would become one key and both values be
// lost. It implements session.KeyChecker, so the Manager refuses such a key
// in Put and as Config.UserKey.
func (*Codec) CheckKey(key string) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: %q (JSON stores each invalid byte as U+FFFD, merging it with other keys)", session.ErrKey, key)
	}
	if reserved[key] {
		return fmt.Errorf("%w: %q is used by express-session or sessionkit itself; choose another key", session.ErrReserved, key)
	}
	return nil
}

// User returns the user a session document holds under the top-level key,
// as the Manager reads it (a string, or a number as written), for tools that
// read stored documents without a Manager. It returns "" when there is none,
// or when doc is not a JSON object (another codec's document).
func User(doc []byte, key string) string {
	if key == "" || len(doc) == 0 || doc[0] != '{' {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return ""
	}
	raw, ok := m[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if _, err := strconv.ParseFloat(n.String(), 64); err == nil {
			return n.String()
		}
	}
	return ""
}
