// Package interop tests that a Go service using sessionkit and a Node app
// using express-session share sessions in both directions, against the real
// npm packages (express, express-session, connect-pg-simple, connect-redis):
// every test runs against the versions node/package-lock.json pins and again
// against the current majors of node-current/package-lock.json (see
// TestMain). The MySQL tests run express-mysql-session and mysql2 from
// mysql-node/package-lock.json with the express-session of each set.
// scripts/test installs all three with npm ci.
package interop
