package browser

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sessionkit/sessionkit/middleware"
)

// chromium returns the path of the Chromium binary, failing the test in CI
// and skipping it elsewhere when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SESSIONKIT_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	const hint = "Chromium not found; install it (apt-get install -y chromium) or set SESSIONKIT_CHROMIUM to run the browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(hint)
	}
	t.Skip(hint)
	return ""
}

// browserCookie returns the cookie named name as the browser stores it for
// base, or nil.
func browserCookie(ctx context.Context, t *testing.T, base, name string) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatalf("get cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func text(ctx context.Context, t *testing.T, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

func do(ctx context.Context, t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestBrowser drives headless Chromium through the example server: the
// cookie is the one a real browser stores and sends back, with the Secure
// and SameSite attributes the server was configured with (Chromium accepts
// Secure cookies from http://localhost).
func TestBrowser(t *testing.T) {
	path := chromium(t)
	s := start(t, map[string]string{"SESSION_SECRET": testSecret, "SESSION_STORE": "memory://"}, "-secure", "-samesite", "strict")
	base := strings.Replace(s.Base, "127.0.0.1", "localhost", 1)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	do(ctx, t, "open the home page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#login-btn")))
	if c := browserCookie(ctx, t, base, "session"); c != nil {
		t.Fatal("an anonymous visit stored a session cookie")
	}

	do(ctx, t, "log in",
		chromedp.SendKeys(chromedp.CSS("#user-input"), "ana"),
		chromedp.Click(chromedp.CSS("#login-btn")),
		chromedp.WaitVisible(chromedp.CSS("#user")))
	if got := text(ctx, t, "#user"); got != "ana" {
		t.Fatalf("signed in as %q", got)
	}
	c := browserCookie(ctx, t, base, "session")
	if c == nil {
		t.Fatal("the browser stored no session cookie after login")
	}
	if !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/" || c.Session {
		t.Errorf("stored cookie: secure %v, httpOnly %v, sameSite %q, path %q, session %v; want Secure, HttpOnly, Strict, /, persistent",
			c.Secure, c.HTTPOnly, c.SameSite, c.Path, c.Session)
	}
	if exp := time.Unix(int64(c.Expires), 0); time.Until(exp) < time.Hour || time.Until(exp) > 3*time.Hour {
		t.Errorf("cookie expires %v, want about the 2h idle timeout from now", exp)
	}
	if _, ok := middleware.Verify(c.Value, []string{testSecret}); !ok {
		t.Errorf("the stored cookie does not verify: %q", c.Value)
	}
	if js, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie")); err != nil || strings.Contains(js, "session=") {
		t.Errorf("page script sees the HttpOnly cookie: %q, %v", js, err)
	}
	loggedIn := c.Value

	// #count is on the page already: mark this page, and wait for #count on
	// a page without the mark, or the reload below can abort the POST's
	// redirect still in flight.
	do(ctx, t, "count",
		chromedp.Evaluate[chromedp.Void](`void (document.body.dataset.stale = "1")`),
		chromedp.Click(chromedp.CSS("#count-btn")),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-stale]) #count")))
	do(ctx, t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#user")))
	if got := text(ctx, t, "#count"); got != "1" {
		t.Errorf("after reload the counter is %q, want 1", got)
	}
	if got := text(ctx, t, "#user"); got != "ana" {
		t.Errorf("after reload signed in as %q", got)
	}

	do(ctx, t, "renew", chromedp.Click(chromedp.CSS("#renew-btn")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	renewed := browserCookie(ctx, t, base, "session")
	if renewed == nil || renewed.Value == loggedIn {
		t.Fatal("renew did not give the browser a new session cookie")
	}
	if got := text(ctx, t, "#count"); got != "1" {
		t.Errorf("after renew the counter is %q, want 1", got)
	}
	do(ctx, t, "reload after renew", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#user")))

	do(ctx, t, "log out", chromedp.Click(chromedp.CSS("#logout-btn")), chromedp.WaitVisible(chromedp.CSS("#login-btn")))
	if got := text(ctx, t, ".flash"); got != "Signed out." {
		t.Errorf("logout flash %q", got)
	}
	after := browserCookie(ctx, t, base, "session")
	if after != nil && (after.Value == renewed.Value || after.Value == loggedIn) {
		t.Error("the browser still holds the signed-in session cookie after logout")
	}
	do(ctx, t, "reload after logout", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#login-btn")))
}
