package session

import "fmt"

// KeyChecker is implemented by codecs whose format reserves top-level keys:
// express-session, for one, drops or overwrites its own fields when it loads
// a session, so a value put there would be lost on the Node side (see
// codecs/jsoncodec). CheckKey returns an error wrapping ErrReserved for a
// key that cannot hold a session value. The Manager asks it in Put and for
// Config.UserKey, so the mistake shows where it is made rather than at the
// next Commit.
type KeyChecker interface {
	CheckKey(key string) error
}

// checkKey refuses the empty key, which no format can name, and what codec
// reserves.
func checkKey(codec Codec, key string) error {
	if key == "" {
		return fmt.Errorf("%w: the empty key", ErrReserved)
	}
	if kc, ok := codec.(KeyChecker); ok {
		return kc.CheckKey(key)
	}
	return nil
}
