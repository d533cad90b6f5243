package session

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sessionkit/sessionkit/internal/httpsyntax"
)

// SameSite is the SameSite attribute of the session cookie.
type SameSite string

// SameSite values. The zero value means SameSiteLax.
const (
	SameSiteLax    SameSite = "lax"
	SameSiteStrict SameSite = "strict"
	// SameSiteNone sends the cookie on cross-site requests too; browsers
	// accept it only with Secure, so New requires CookieOptions.Secure.
	SameSiteNone SameSite = "none"
	// SameSiteOff writes no SameSite attribute, leaving the browser's
	// default (Lax in current browsers).
	SameSiteOff SameSite = "off"
)

// ParseSameSite reads a SameSite value as written in configuration: "lax",
// "strict", "none" or "off", in any case. The empty string gives the
// default, SameSiteLax.
func ParseSameSite(s string) (SameSite, error) {
	v := SameSite(strings.ToLower(strings.TrimSpace(s)))
	switch v {
	case "":
		return SameSiteLax, nil
	case SameSiteLax, SameSiteStrict, SameSiteNone, SameSiteOff:
		return v, nil
	}
	return "", fmt.Errorf("session: SameSite %q: want lax, strict, none or off", s)
}

// Priority is the Priority attribute of the session cookie (a Chromium
// extension that decides which cookies go first when a site has too many).
type Priority string

// Priority values. The zero value writes no attribute.
const (
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
)

// ParsePriority reads a Priority as written in configuration: "low",
// "medium", "high", in any case, or empty for none.
func ParsePriority(s string) (Priority, error) {
	v := Priority(strings.ToLower(strings.TrimSpace(s)))
	switch v {
	case "", PriorityLow, PriorityMedium, PriorityHigh:
		return v, nil
	}
	return "", fmt.Errorf("session: Priority %q: want low, medium, high or empty", s)
}

// check applies the defaults of o and refuses what browsers reject or what
// defeats the cookie's protection. It is the one place cookie options are
// checked: New calls it, and the middleware writes what it accepted.
func (o *CookieOptions) check() error {
	if o.Name == "" {
		o.Name = "session"
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if o.SameSite == "" {
		o.SameSite = SameSiteLax
	}
	switch o.SameSite {
	case SameSiteLax, SameSiteStrict, SameSiteNone, SameSiteOff:
	default:
		return fmt.Errorf("session: Cookie.SameSite %q: want SameSiteLax, SameSiteStrict, SameSiteNone or SameSiteOff (ParseSameSite reads them from text)", o.SameSite)
	}
	switch o.Priority {
	case "", PriorityLow, PriorityMedium, PriorityHigh:
	default:
		return fmt.Errorf("session: Cookie.Priority %q: want PriorityLow, PriorityMedium, PriorityHigh or empty (ParsePriority reads them from text)", o.Priority)
	}
	if !httpsyntax.Token(o.Name) {
		return fmt.Errorf("session: Cookie.Name %q is not a valid cookie name", o.Name)
	}
	if !validAttr(o.Path) || !strings.HasPrefix(o.Path, "/") {
		return fmt.Errorf("session: Cookie.Path %q must start with '/' and hold no ';' or control characters", o.Path)
	}
	if !validAttr(o.Domain) || strings.ContainsAny(o.Domain, " ,") {
		return fmt.Errorf("session: Cookie.Domain %q is not a valid domain", o.Domain)
	}
	lower := strings.ToLower(o.Name)
	switch {
	case o.SameSite == SameSiteNone && !o.Secure:
		return errors.New("session: cookie SameSite=None requires Secure; browsers reject it otherwise")
	case o.Partitioned && !o.Secure:
		return errors.New("session: a Partitioned cookie requires Secure; browsers reject it otherwise")
	case strings.HasPrefix(lower, "__secure-") && !o.Secure:
		return fmt.Errorf("session: cookie %q: a __Secure- name requires Secure", o.Name)
	case strings.HasPrefix(lower, "__host-") && (!o.Secure || o.Domain != "" || o.Path != "/"):
		return fmt.Errorf("session: cookie %q: a __Host- name requires Secure, no Domain and Path \"/\"", o.Name)
	}
	return nil
}

// validAttr reports whether s can be written as a Path or Domain attribute
// value without ending the attribute early.
func validAttr(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == ';' || c == 0x7f || c >= 0x80 {
			return false
		}
	}
	return true
}
