'use strict';

// The Node half of the example: an Express app keeping its sessions with
// express-session over connect-pg-simple, on the table the Go service in
// ../main.go uses too. Configured from the environment:
//
//   DATABASE_URL    the PostgreSQL both apps use (required)
//   SESSION_SECRET  the secret both apps sign the connect.sid cookie with
//   PORT            port on 127.0.0.1 (default 3000; 0 picks a free one,
//                   printed alone on the first line of stdout)
//   PG_SCHEMA       connect-pg-simple's schemaName (optional)

const express = require('express');
const session = require('express-session');
const pg = require('pg');
const pgSession = require('connect-pg-simple')(session);

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const app = express();
app.use(session({
  store: new pgSession({ pool, schemaName: process.env.PG_SCHEMA || undefined, createTableIfMissing: false }),
  secret: process.env.SESSION_SECRET,
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: 24 * 60 * 60 * 1000 },
}));

app.post('/login', (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.userId = String(req.query.user || 'ana');
    req.session.views = 0;
    res.send('node: signed in as ' + req.session.userId + '\n');
  });
});

app.get('/', (req, res) => {
  if (!req.session.userId) return res.status(401).send('node: not signed in\n');
  req.session.views = (req.session.views || 0) + 1;
  res.send('node: ' + req.session.userId + ', views ' + req.session.views + '\n');
});

app.post('/logout', (req, res, next) => {
  req.session.destroy((err) => (err ? next(err) : res.send('node: signed out\n')));
});

const server = app.listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
  console.log(server.address().port);
});
