package session

import (
	"fmt"
	"unicode/utf8"
)

// metaKey is the top-level key the JSON codec keeps this library's metadata
// under; applications may not use it.
const metaKey = "__sessionkit"

// reserved lists top-level keys that express-session drops or overwrites when
// it loads or saves a session (its own fields, the Session methods and the
// names of Object.prototype), plus this library's metadata key. A value put
// under one of them would be lost on the Node side, so Put refuses them.
var reserved = map[string]bool{
	"": true, metaKey: true,
	// express-session's Session fields and methods.
	"cookie": true, "id": true, "req": true, "regenerate": true, "destroy": true,
	"reload": true, "save": true, "touch": true, "resetMaxAge": true,
	// Object.prototype.
	"constructor": true, "__proto__": true, "hasOwnProperty": true,
	"isPrototypeOf": true, "propertyIsEnumerable": true, "toLocaleString": true,
	"toString": true, "valueOf": true, "__defineGetter__": true,
	"__defineSetter__": true, "__lookupGetter__": true, "__lookupSetter__": true,
}

// CheckKey returns an error wrapping ErrReserved when key cannot hold a
// session value, or ErrKey when it is not valid UTF-8: JSON writes each
// invalid byte as U+FFFD, so "k\xff" and "k\xfe" would become one key.
func CheckKey(key string) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: %q (JSON stores each invalid byte as U+FFFD, merging it with other keys)", ErrKey, key)
	}
	if reserved[key] {
		return fmt.Errorf("%w: %q is used by express-session or sessionkit itself; choose another key", ErrReserved, key)
	}
	return nil
}
