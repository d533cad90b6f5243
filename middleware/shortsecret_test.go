package middleware

import (
	"github.com/sessionkit/sessionkit/session"

	"net/http"
	"strings"
	"testing"
)

// TestShortSecretVerifiesOnly joins a fleet that signs with a short secret:
// after a long first secret, a short one verifies the fleet's cookies but
// never signs, and New warns with the rotation path, without the secret.
func TestShortSecretVerifiesOnly(t *testing.T) {
	const short = "keyboard cat"
	f := newFixture(t, func(_ *session.Config, mc *Config) { mc.Secrets = []string{testSecret, short} })
	logs := f.logs.String()
	if !strings.Contains(logs, "Secrets[1]") || !strings.Contains(logs, "[new long, old short]") {
		t.Errorf("no warning naming the short secret and the rotation path: %q", logs)
	}
	if strings.Contains(logs, short) {
		t.Errorf("the warning reveals the secret: %q", logs)
	}
	pair := f.seed(t, "fleet-session", map[string]any{"n": 1})
	name, _, _ := strings.Cut(pair, "=")
	w := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		if isNew, err := s.IsNew(); err != nil || isNew {
			t.Errorf("cookie signed with the short secret: IsNew %v, %v; want the fleet's session", isNew, err)
		}
		s.Put("n", 2)
	}, "GET", "/", name+"="+Sign("fleet-session", short))
	sc := setCookies(w)
	if len(sc) != 1 || !strings.Contains(sc[0], Sign("fleet-session", testSecret)) {
		t.Fatalf("Set-Cookie %q, want the session re-signed with the long secret", sc)
	}
}
