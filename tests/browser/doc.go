// Package browser drives headless Chromium through the example server
// (examples/server), built and run as a process of its own. It is a module of
// its own so that the library's go.mod does not require chromedp.
//
// A test calls start(t, env, args...) for a server of its own on a free
// loopback port (stopped with SIGINT when the test ends) and chromium(t) for
// the browser, which skips the test outside CI when none is installed and
// fails it under CI=true.
package browser
