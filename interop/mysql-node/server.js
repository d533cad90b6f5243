'use strict';

// The Express half of sessionkit's MySQL interop tests: an app that keeps its
// sessions with express-session over express-mysql-session, configured from
// the environment by the Go tests (interop/mysql_test.go):
//
//   PORT            port on 127.0.0.1; 0 (the default) picks a free one. The
//                   port is printed alone on the first line of stdout, once
//                   the store is ready (its table created, if it creates it).
//   MYSQL_URL       mysql://user:password@host:port/database
//   MYSQL_TABLE     express-mysql-session's schema.tableName (default "sessions").
//   MYSQL_TIME_ZONE time_zone set on each connection (optional), as a server
//                   default would be.
//   CREATE_TABLE    "1" lets express-mysql-session create its table
//                   (createDatabaseTable); otherwise the Go side made it.
//   SECRETS         JSON array of secrets, newest first.
//   COOKIE_MAX_AGE  cookie maxAge in milliseconds (default one day).
//   DISABLE_TOUCH   "1" sets the store's disableTouch, so that reading a
//                   session does not push its expiry out.
//   NODE_PACKAGES   directory whose node_modules express and express-session
//                   are loaded from (default: this one's); the tests also run
//                   with ../node-current, the current majors. The MySQL store
//                   and its driver always come from this directory: the store
//                   is handed the session module rather than loading it.
//
// The cookie is secure: false, as interop/node/server.js sets it by default
// and as apps write it in development.
//
// It never listens on anything but 127.0.0.1.

const path = require('node:path');
const { createRequire } = require('node:module');

// load requires an npm package from NODE_PACKAGES's node_modules.
const load = createRequire(path.join(path.resolve(process.env.NODE_PACKAGES || __dirname), 'package.json'));

const express = load('express');
const session = load('express-session');
const mysql = require('mysql2');
const MySQLStore = require('express-mysql-session')(session);

function env(name, def) {
  const v = process.env[name];
  return v === undefined || v === '' ? def : v;
}

function fail(msg) {
  process.stderr.write('server.js: ' + msg + '\n');
  process.exit(2);
}

function sessionValues(sess) {
  const { cookie, ...values } = sess;
  return values;
}

async function main() {
  let secrets;
  try {
    secrets = JSON.parse(env('SECRETS', '[]'));
  } catch (err) {
    fail('SECRETS must be a JSON array of strings: ' + err.message);
  }
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === 'string')) {
    fail('SECRETS must be a non-empty JSON array of strings');
  }
  const maxAge = Number(env('COOKIE_MAX_AGE', String(24 * 3600 * 1000)));
  if (!Number.isFinite(maxAge) || maxAge <= 0) fail('COOKIE_MAX_AGE must be a positive number of milliseconds');

  const u = new URL(env('MYSQL_URL', 'mysql://root@127.0.0.1:3306/test'));
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost' && u.hostname !== '[::1]') {
    fail('MYSQL_URL must name a loopback host');
  }
  const pool = mysql.createPool({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)),
    connectionLimit: 4,
  });
  const tz = env('MYSQL_TIME_ZONE', '');
  if (tz) {
    // Queued before any query the pool hands the connection out for.
    pool.on('connection', (conn) => conn.query('SET time_zone = ?', [tz]));
  }
  const store = new MySQLStore({
    createDatabaseTable: env('CREATE_TABLE', '') === '1',
    clearExpired: false,
    disableTouch: env('DISABLE_TOUCH', '') === '1',
    schema: { tableName: env('MYSQL_TABLE', 'sessions') },
  }, pool);
  await store.onReady();

  const app = express();
  app.use(express.json());
  app.use(session({
    name: 'connect.sid',
    secret: secrets,
    store,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge, httpOnly: true, secure: false, sameSite: 'lax', path: '/' },
  }));

  // The same routes, values and key order as interop/node/server.js.
  app.post('/login', (req, res, next) => {
    const user = String(req.query.user || 'anonymous');
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.roles = ['admin', 'editor'];
      req.session.user = {
        name: user,
        email: user + '@example.com',
        prefs: { theme: 'dark', langs: ['en', 'ja'], beta: false, ratio: 0.5 },
        manager: null,
        note: 'h\u00e9llo \u2713 <b>&amp;</b> "q" \\ \u2028 \u{1F600}',
      };
      req.session.userId = 42;
      res.json({ sessionID: req.sessionID });
    });
  });

  app.get('/session', (req, res) => {
    const values = sessionValues(req.session);
    if (Object.keys(values).length === 0) return res.status(401).json({ error: 'no session' });
    res.json({ sessionID: req.sessionID, session: values });
  });

  app.post('/set', (req, res) => {
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) {
      return res.status(400).json({ error: 'body must be a JSON object' });
    }
    Object.assign(req.session, req.body);
    res.json({ sessionID: req.sessionID });
  });

  app.post('/renew', (req, res, next) => {
    const values = sessionValues(req.session);
    if (Object.keys(values).length === 0) return res.status(401).json({ error: 'no session' });
    req.session.regenerate((err) => {
      if (err) return next(err);
      Object.assign(req.session, values);
      res.json({ sessionID: req.sessionID });
    });
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.json({ ok: true });
    });
  });

  // GET /debug/versions answers the versions of the packages loaded.
  app.get('/debug/versions', (req, res) => {
    const version = (req, name) => req(name + '/package.json').version;
    res.json({
      'express-session': version(load, 'express-session'),
      'express-mysql-session': version(require, 'express-mysql-session'),
      mysql2: version(require, 'mysql2'),
    });
  });

  app.get('/debug/timezone', (req, res, next) => {
    pool.query('SELECT @@session.time_zone AS tz', (err, rows) => {
      if (err) return next(err);
      res.json({ timezone: rows[0].tz });
    });
  });

  app.use((err, req, res, next) => {
    process.stderr.write('request error: ' + (err && err.stack ? err.stack : String(err)) + '\n');
    res.status(500).json({ error: String(err && err.message) });
  });

  const server = app.listen(Number(env('PORT', '0')), '127.0.0.1', () => {
    process.stdout.write(server.address().port + '\n');
  });
  server.on('error', (err) => fail('listen: ' + err.message));
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
