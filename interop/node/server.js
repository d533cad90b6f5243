'use strict';

// The Express half of sessionkit's interop tests: an app that keeps its
// sessions with express-session over connect-pg-simple or connect-redis,
// configured from the environment by the Go tests (interop/*_test.go):
//
//   PORT            port on 127.0.0.1; 0 (the default) picks a free one. The
//                   port is printed alone on the first line of stdout.
//   STORE           "pg" or "redis".
//   DATABASE_URL    PostgreSQL URL (STORE=pg). The connection's TimeZone comes
//                   from PGOPTIONS ('-c TimeZone=…'), which pg reads itself.
//   PG_SCHEMA       connect-pg-simple's schemaName (optional).
//   PG_TABLE        connect-pg-simple's tableName (default "session").
//   REDIS_URL       Redis URL (STORE=redis).
//   REDIS_PREFIX    connect-redis's key prefix (default "sess:").
//   SECRETS         JSON array of secrets, newest first.
//   COOKIE_MAX_AGE  cookie maxAge in milliseconds (default one day), or
//                   "session" for a browser-session cookie (maxAge null).
//   DISABLE_TOUCH   "1" sets the store's disableTouch, so that reading a
//                   session does not push its expiry out (the expiry tests
//                   need reads that change nothing).
//   COOKIE_SECURE   the cookie's secure option: "false" (the default, as
//                   apps write secure: NODE_ENV === 'production' in
//                   development), "true", "auto", or "unset" to leave it out
//                   (express-session then stores no "secure" field).
//   TRUST_PROXY     "1" sets Express's trust proxy to loopback, so req.secure
//                   (and so secure: 'auto') follows the X-Forwarded-Proto the
//                   tests send to stand for HTTPS.
//   GENID           "odd" makes session IDs that are not base64url: they
//                   hold the characters cookie encoders treat differently
//                   (ID_ODD_CHARS below) before 16 random ones.
//   NODE_PACKAGES   directory whose node_modules the npm packages are loaded
//                   from (default: this one's, the pinned versions; the tests
//                   also run with ../node-current, the current majors).
//
// It never listens on anything but 127.0.0.1.

const crypto = require('node:crypto');
const path = require('node:path');
const { createRequire } = require('node:module');

// load requires an npm package from NODE_PACKAGES's node_modules.
const packagesDir = path.resolve(process.env.NODE_PACKAGES || __dirname);
const load = createRequire(path.join(packagesDir, 'package.json'));

const express = load('express');
const session = load('express-session');

const ID_ODD_CHARS = "odd.+/= \u00e9!*'()~%;,";

// cookieSecure is the cookie's secure option from COOKIE_SECURE.
function cookieSecure() {
  switch (env('COOKIE_SECURE', 'false')) {
    case 'unset': return {};
    case 'auto': return { secure: 'auto' };
    case 'true': return { secure: true };
    default: return { secure: false };
  }
}

function env(name, def) {
  const v = process.env[name];
  return v === undefined || v === '' ? def : v;
}

function fail(msg) {
  process.stderr.write('server.js: ' + msg + '\n');
  process.exit(2);
}

async function makeStore() {
  const disableTouch = env('DISABLE_TOUCH', '') === '1';
  switch (env('STORE', '')) {
    case 'pg': {
      const pg = load('pg');
      const pgSession = load('connect-pg-simple')(session);
      const pool = new pg.Pool({ connectionString: env('DATABASE_URL', undefined), max: 4 });
      pool.on('error', (err) => process.stderr.write('pg pool error: ' + err.message + '\n'));
      const store = new pgSession({
        pool,
        schemaName: env('PG_SCHEMA', undefined),
        tableName: env('PG_TABLE', 'session'),
        pruneSessionInterval: false,
        disableTouch,
      });
      // The TimeZone pg's connections run with, so the tests can check that
      // PGOPTIONS took effect rather than trust it.
      const timezone = async () => (await pool.query("SELECT current_setting('TimeZone') AS tz")).rows[0].tz;
      return { store, timezone };
    }
    case 'redis': {
      const { createClient } = load('redis');
      const { RedisStore } = load('connect-redis');
      const client = createClient({ url: env('REDIS_URL', 'redis://127.0.0.1:6379/0') });
      client.on('error', (err) => process.stderr.write('redis client error: ' + err.message + '\n'));
      await client.connect();
      const store = new RedisStore({ client, prefix: env('REDIS_PREFIX', 'sess:'), disableTouch });
      return { store, timezone: async () => '' };
    }
    default:
      fail('STORE must be "pg" or "redis"');
  }
}

// sessionValues returns the session's own values: everything but its cookie.
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
  const maxAgeEnv = env('COOKIE_MAX_AGE', String(24 * 3600 * 1000));
  const maxAge = maxAgeEnv === 'session' ? null : Number(maxAgeEnv);
  if (maxAge !== null && (!Number.isFinite(maxAge) || maxAge <= 0)) {
    fail('COOKIE_MAX_AGE must be a positive number of milliseconds or "session"');
  }

  const { store, timezone } = await makeStore();

  const app = express();
  if (env('TRUST_PROXY', '') === '1') app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.use(session({
    name: 'connect.sid',
    secret: secrets,
    store,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge, httpOnly: true, sameSite: 'lax', path: '/', ...cookieSecure() },
    ...(env('GENID', '') === 'odd' ? { genid: () => ID_ODD_CHARS + crypto.randomBytes(12).toString('base64url') } : {}),
  }));

  // POST /login?user=U starts a fresh session for U. The keys are set in
  // sorted order, as Go's codec writes them, so that the stored documents of
  // the two sides can be compared byte for byte.
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

  // GET /session answers the session's values and ID, or 401 when the
  // request has no stored session (express-session then made a fresh one
  // with nothing but a cookie).
  app.get('/session', (req, res) => {
    const values = sessionValues(req.session);
    if (Object.keys(values).length === 0) return res.status(401).json({ error: 'no session' });
    res.json({ sessionID: req.sessionID, session: values });
  });

  // POST /set merges the JSON object in the body into the session.
  app.post('/set', (req, res) => {
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) {
      return res.status(400).json({ error: 'body must be a JSON object' });
    }
    Object.assign(req.session, req.body);
    res.json({ sessionID: req.sessionID });
  });

  // POST /remember?ms=N gives this session its own cookie lifetime, the
  // express-session idiom for "remember me".
  app.post('/remember', (req, res) => {
    const ms = Number(req.query.ms);
    if (!Number.isFinite(ms) || ms <= 0) return res.status(400).json({ error: 'ms must be a positive number' });
    if (Object.keys(sessionValues(req.session)).length === 0) return res.status(401).json({ error: 'no session' });
    req.session.cookie.maxAge = ms;
    // A cookie change alone is not a modification to express-session.
    req.session.remember = true;
    res.json({ sessionID: req.sessionID });
  });

  // POST /renew gives the session a new ID, keeping its values.
  app.post('/renew', (req, res, next) => {
    const values = sessionValues(req.session);
    if (Object.keys(values).length === 0) return res.status(401).json({ error: 'no session' });
    req.session.regenerate((err) => {
      if (err) return next(err);
      Object.assign(req.session, values);
      res.json({ sessionID: req.sessionID });
    });
  });

  // POST /logout destroys the session. The cookie is left in place, so the
  // tests see that the stored session, not the cookie, is what ends.
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.json({ ok: true });
    });
  });

  // GET /whoami and POST /increment are the HTTP benchmark's read and
  // modify (interop/httpbench_test.go): the user's name, and a counter.
  app.get('/whoami', (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: 'no session' });
    res.json({ name: req.session.user.name });
  });
  app.post('/increment', (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: 'no session' });
    req.session.views = (req.session.views || 0) + 1;
    res.json({ views: req.session.views });
  });

  // GET /debug/versions answers the versions of the npm packages loaded, so
  // the tests can check which set they run against.
  app.get('/debug/versions', (req, res) => {
    const versions = {};
    for (const name of ['express', 'express-session', 'connect-pg-simple', 'connect-redis', 'pg', 'redis']) {
      const file = path.join(packagesDir, 'node_modules', name, 'package.json');
      versions[name] = JSON.parse(require('node:fs').readFileSync(file, 'utf8')).version;
    }
    res.json(versions);
  });

  app.get('/debug/timezone', async (req, res, next) => {
    try {
      res.json({ timezone: await timezone() });
    } catch (err) {
      next(err);
    }
  });

  // Errors go to stderr, which the Go tests show when they fail.
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
