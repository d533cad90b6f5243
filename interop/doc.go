// Package interop tests that a Go service using sessionkit and a Node app
// using express-session share sessions in both directions, against the real
// npm packages (express, express-session, connect-pg-simple, connect-redis)
// pinned by node/package-lock.json. scripts/test installs them with npm ci.
package interop
