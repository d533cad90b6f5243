package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// secretsFlag collects repeated --secret flags.
type secretsFlag []string

func (s *secretsFlag) String() string     { return fmt.Sprint(len(*s), " secrets") }
func (s *secretsFlag) Set(v string) error { *s = append(*s, v); return nil }

// secrets returns the flags' secrets, or SESSION_SECRET.
func (s secretsFlag) secrets() ([]string, error) {
	if len(s) > 0 {
		return s, nil
	}
	if v := os.Getenv("SESSION_SECRET"); v != "" {
		return []string{v}, nil
	}
	return nil, usagef("no secret: pass --secret (repeatable, newest first) or set SESSION_SECRET")
}

func runCookie(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return status(usagef("cookie needs a subcommand: verify or sign"), stderr)
	}
	sub, args := args[0], args[1:]
	var secrets secretsFlag
	var fs *flag.FlagSet
	switch sub {
	case "sign":
		fs = command("cookie sign", "cookie sign [--secret S] [ID]\n\nPrints a signed cookie value for ID (a new random ID when none), as\nexpress-session signs it. The secret must be at least "+strconv.Itoa(middleware.MinSecretLen)+" bytes.", false)
	case "verify":
		fs = command("cookie verify", "cookie verify [--secret S]... [--name NAME] [--store URL] [--show-id] VALUE\n\nChecks a cookie value, or every signed cookie of a Cookie header (as a\nbrowser sends it, other cookies and all), and says why one is refused.", true)
	default:
		return status(usagef("unknown cookie subcommand %q: want verify or sign", sub), stderr)
	}
	fs.Var(&secrets, "secret", "signing secret; repeat for rotated ones, newest first (default: SESSION_SECRET)")
	switch sub {
	case "sign":
		pos, err := parse(fs, args, stderr)
		if err != nil {
			return status(err, stderr)
		}
		sec, err := secrets.secrets()
		if err != nil {
			return status(err, stderr)
		}
		// Verifying accepts the short secrets a fleet may still have;
		// a new cookie is signed only with a secret the middleware
		// would accept.
		if len(sec[0]) < middleware.MinSecretLen {
			return status(usagef("the signing secret is %d bytes; cookie sign needs at least %d bytes, as the middleware does (verify accepts shorter ones)", len(sec[0]), middleware.MinSecretLen), stderr)
		}
		if len(pos) > 1 {
			return status(usagef("cookie sign takes at most one session ID"), stderr)
		}
		id := session.NewID()
		if len(pos) == 1 {
			id = pos[0]
		}
		if id == "" {
			return status(usagef("the session ID is empty"), stderr)
		}
		fmt.Fprintln(stdout, middleware.Sign(id, sec[0]))
		return exitOK
	case "verify":
		name := fs.String("name", "", "cookie name to pick from a Cookie header (default: every signed cookie in it)")
		storeURL := fs.String("store", "", "also look the session up in this store")
		showID := fs.Bool("show-id", false, "print the session ID itself, not only its log hash")
		hashKey := fs.String("id-hash-key", os.Getenv("SESSION_ID_HASH_KEY"), "the key of a server that hashes IDs at rest (session.Config.IDHashKey; default $SESSION_ID_HASH_KEY)")
		pos, err := parse(fs, args, stderr)
		if err != nil {
			return status(err, stderr)
		}
		sec, err := secrets.secrets()
		if err != nil {
			return status(err, stderr)
		}
		if len(pos) != 1 {
			return status(usagef("cookie verify takes one cookie value or Cookie header"), stderr)
		}
		return verifyCookies(ctx, pos[0], *name, *storeURL, *showID, []byte(*hashKey), sec, stdout, stderr)
	}
	return exitOK
}

// verifyCookies checks a value, or every signed cookie (or the one named) of
// a Cookie header, and explains why a value is refused. A browser's header
// carries other cookies (analytics, preferences, another app's), so without
// a name the unsigned ones are skipped and named, not errors.
func verifyCookies(ctx context.Context, arg, name, storeURL string, showID bool, hashKey []byte, secrets []string, stdout, stderr io.Writer) int {
	arg = strings.TrimSpace(arg)
	arg = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(arg, "Cookie:"), "cookie:"))
	type pair struct{ name, value string }
	var cookies []pair
	// A signed value holds no '=': the signature is unpadded and escaped.
	if strings.Contains(arg, "=") {
		cs, err := http.ParseCookie(arg)
		if err != nil {
			return status(usagef("cannot parse the Cookie header: %v", err), stderr)
		}
		var skipped []string
		for _, c := range cs {
			switch {
			case name != "" && c.Name == name, name == "" && signedLooking(c.Value):
				cookies = append(cookies, pair{c.Name, c.Value})
			case name == "":
				skipped = append(skipped, c.Name)
			}
		}
		switch {
		case len(cookies) == 0 && name != "":
			fmt.Fprintf(stdout, "error: no cookie named %q in the header\n", name)
			return exitDeviation
		case len(cookies) == 0:
			fmt.Fprintf(stdout, "error: no signed cookie in the header (cookies: %s)\n", strings.Join(skipped, ", "))
			return exitDeviation
		case len(skipped) > 0:
			fmt.Fprintf(stdout, "info: skipped %d unsigned cookies: %s\n", len(skipped), strings.Join(skipped, ", "))
		}
	} else {
		cookies = []pair{{name, arg}}
	}
	var t *target
	if storeURL != "" {
		var err error
		if t, err = open(ctx, storeURL, existing); err != nil {
			return status(err, stderr)
		}
		defer t.Close()
	}
	code := exitOK
	for _, c := range cookies {
		label := "cookie"
		if c.name != "" {
			label = "cookie " + c.name
		}
		id, which, why := verifyOne(c.value, secrets)
		if why != "" {
			fmt.Fprintf(stdout, "error: %s: %s\n", label, why)
			code = exitDeviation
			continue
		}
		// Logs name a session by its hash; the ID itself only on request.
		shown := "log hash " + session.LogID(id)
		if showID {
			shown = "id " + id + ", " + shown
		}
		fmt.Fprintf(stdout, "ok: %s: valid, signed with secret #%d, session %s\n", label, which+1, shown)
		if t == nil {
			continue
		}
		key := id
		if len(hashKey) > 0 {
			key = session.HashID(hashKey, id)
		}
		_, exp, found, err := t.store.Load(ctx, key)
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "error: %s: store: %v\n", label, err)
			code = exitDeviation
		case !found:
			fmt.Fprintf(stdout, "error: %s: no live session with this ID in the store (expired, signed out, or another store)\n", label)
			code = exitDeviation
		default:
			fmt.Fprintf(stdout, "ok: %s: live in the store until %s (in %v)\n", label, stamp(exp), time.Until(exp).Round(time.Second))
		}
	}
	return code
}

// signedLooking reports whether a cookie value is signed the way
// express-session signs: "s:" first, URL-encoded or not.
func signedLooking(v string) bool {
	return strings.HasPrefix(v, "s:") || strings.HasPrefix(strings.ToLower(v), "s%3a")
}

// verifyOne returns the ID and the index of the secret that signed value, or
// a reason it is refused.
func verifyOne(value string, secrets []string) (id string, which int, why string) {
	decoded := value
	if strings.Contains(value, "%") {
		if d, err := url.PathUnescape(value); err == nil {
			decoded = d
		}
	}
	switch {
	case value == "":
		return "", 0, "empty value"
	case !strings.HasPrefix(decoded, "s:"):
		return "", 0, `not signed: a signed value starts with "s:" ("s%3A" URL-encoded); a server without cookie signing, or a value copied incompletely?`
	case !strings.Contains(decoded[2:], "."):
		return "", 0, `malformed: no "." between the session ID and the signature`
	}
	for i, s := range secrets {
		if id, ok := middleware.Verify(value, []string{s}); ok {
			return id, i, ""
		}
	}
	return "", 0, fmt.Sprintf("the signature matches none of the %d secret(s): another secret signed it (a different SESSION_SECRET, or a rotated one not listed), or the value was altered", len(secrets))
}
