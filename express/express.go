// Package express is the preset that shares sessions with a Node
// application using express-session: its cookie name, its JSON document
// (codecs/jsoncodec, which also refuses the keys express-session drops) and
// its signed cookie (package middleware signs as express-session does).
//
//	mw, err := express.New(session.Config{Store: store}, secrets...)
//
// The preset lives in a package of its own rather than in the middleware,
// so that the HTTP layer imports no codec, or in codecs/jsoncodec, so that
// the codec, which stores and tools use without HTTP, imports no HTTP layer.
package express

import (
	"errors"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// CookieName is the cookie name express-session uses by default.
const CookieName = "connect.sid"

// Config returns cfg with express-session's choices where cfg leaves them
// unset: the JSON codec of codecs/jsoncodec and the cookie name
// "connect.sid". Fields cfg sets are kept, so an Express app configured with
// another cookie name is matched by setting it.
func Config(cfg session.Config) session.Config {
	if cfg.Codec == nil {
		cfg.Codec = jsoncodec.New()
	}
	if cfg.Cookie.Name == "" {
		cfg.Cookie.Name = CookieName
	}
	return cfg
}

// New returns a Middleware that shares sessions with an express-session
// application: its Manager is session.New(Config(cfg)), and it signs and
// verifies with the Express app's secrets, newest first (express-session
// also signs with the first). The first must be at least
// middleware.MinSecretLen bytes; later ones may be shorter, to verify the
// cookies of an Express fleet that signs with a short secret (see
// middleware.Config.Secrets). To set the middleware's other fields (ErrorHandler, AutoSecure,
// …), build it with session.New(express.Config(cfg)) and middleware.New.
// cfg.IDHashKey is refused: the Node app looks each session up by its
// cookie's ID, and would find none under hashed keys.
func New(cfg session.Config, secrets ...string) (*middleware.Middleware, error) {
	if cfg.IDHashKey != nil {
		return nil, errors.New("express: session.Config.IDHashKey cannot be used: the Node app looks each session up by its cookie's ID, and would find none; hashed IDs are for stores only Go reads")
	}
	mgr, err := session.New(Config(cfg))
	if err != nil {
		return nil, err
	}
	return middleware.New(middleware.Config{Manager: mgr, Secrets: secrets})
}
