package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sessionkit/sessionkit/internal/httpsyntax"
)

// tokenSpec is the header-token configuration, checked and canonicalised
// once so that reading the header is a map lookup.
type tokenSpec struct {
	request  string // canonical request header name; "" when off
	bearer   bool   // request is Authorization, read as "Bearer <token>"
	response string // canonical response header name
}

func newTokenSpec(cfg Config) (tokenSpec, error) {
	if cfg.TokenHeader == "" {
		switch {
		case cfg.HeaderOnly:
			return tokenSpec{}, errors.New("middleware: HeaderOnly needs a TokenHeader to carry the session")
		case cfg.TokenResponseHeader != "":
			return tokenSpec{}, errors.New("middleware: TokenResponseHeader is set without a TokenHeader")
		}
		return tokenSpec{}, nil
	}
	t := tokenSpec{request: http.CanonicalHeaderKey(cfg.TokenHeader)}
	t.bearer = t.request == "Authorization"
	t.response = cfg.TokenResponseHeader
	if t.response == "" {
		t.response = t.request
		if t.bearer {
			t.response = "X-Session-Token"
		}
	}
	t.response = http.CanonicalHeaderKey(t.response)
	for _, name := range []string{t.request, t.response} {
		if !httpsyntax.Token(name) {
			return tokenSpec{}, fmt.Errorf("middleware: %q is not a valid header name", name)
		}
		switch name {
		case "Cookie", "Set-Cookie", "Vary", "Cache-Control":
			return tokenSpec{}, fmt.Errorf("middleware: the session token cannot travel in the %s header", name)
		}
	}
	if t.response == "Authorization" {
		return tokenSpec{}, errors.New("middleware: Authorization is a request header; name another TokenResponseHeader")
	}
	return t, nil
}

// read returns the token the request carries, if any: the first value of
// the header, or of Authorization the credentials of its Bearer scheme. An
// empty value, or another Authorization scheme, is no token.
func (t *tokenSpec) read(h http.Header) (string, bool) {
	if t.request == "" {
		return "", false
	}
	vs := h[t.request]
	if len(vs) == 0 {
		return "", false
	}
	v := trimOWS(vs[0])
	if t.bearer {
		const scheme = "bearer "
		if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
			return "", false
		}
		v = trimOWS(v[len(scheme):])
	}
	return v, v != ""
}
