// Package httpsyntax checks the HTTP grammar that both a cookie name
// (package session) and a header name (package middleware) must follow, so
// that the two agree on it.
package httpsyntax

import "strings"

// Token reports whether s is a non-empty RFC 7230 token: visible ASCII with
// none of the separators. Cookie names and header field names are tokens.
func Token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || c == 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
