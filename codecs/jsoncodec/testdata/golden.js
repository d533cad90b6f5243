// golden.js writes the golden documents in this directory with the real
// express-session: each case runs one request through its middleware (and
// MemoryStore, which keeps JSON.stringify(req.session), as connect-pg-simple
// and connect-redis store it) and saves the stored string as <name>.json.
//
//   npm install express-session@1.19.0 && OUT=<this directory> node golden.js
'use strict'

const fs = require('fs')
const http = require('http')
const path = require('path')
const session = require('express-session')
const signature = require('cookie-signature')

// A fixed clock makes expires and originalMaxAge reproducible.
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678)
Date.now = () => NOW

const outDir = process.env.OUT || __dirname
const secret = 'golden secret, golden secret, golden!'

const cases = [
  {
    name: 'maxage',
    cookie: { maxAge: 86400000 },
    set (s) { s.user = 'ada' }
  },
  {
    name: 'secure-samesite-domain',
    cookie: { maxAge: 3600000, secure: true, sameSite: 'lax', domain: 'example.com', path: '/app', httpOnly: false },
    https: true,
    set (s) { s.n = 1 }
  },
  {
    name: 'partitioned-priority',
    cookie: { maxAge: 1209600000, partitioned: true, priority: 'high', secure: 'auto', sameSite: 'none' },
    https: true,
    set (s) { s.flag = true }
  },
  {
    name: 'browser-session',
    cookie: {},
    set (s) { s.visits = 3 }
  },
  {
    name: 'nested',
    cookie: { maxAge: 60000 },
    set (s) {
      s.cart = [{ sku: 'A-1', qty: 2, price: 9.99 }, { sku: 'B-2', qty: 1, price: 0.5 }]
      s.counts = { big: 1e21, neg: -0, small: 1e-7, max: Number.MAX_SAFE_INTEGER }
      s.empty = {}
      s.none = null
      s.user = { id: 42, name: 'Ada Lovelace', roles: ['admin', 'dev'], profile: { lang: 'en', tz: 'Europe/London' }, active: true }
    }
  },
  {
    name: 'unicode',
    cookie: { maxAge: 86400000 },
    set (s) {
      s['clé'] = 'valeur'
      s.ctl = 'tab\there\nnl "q" \\ \u0001 \u001f \b \f \r'
      s.emoji = '😀 ☃'
      s.html = '<script>alert("&")</script>'
      s.sep = 'a\u2028b\u2029c'
      s.text = 'héllo wörld — 日本語'
    }
  },
  {
    // sameSite given as a boolean is stored as a boolean.
    name: 'samesite-true',
    cookie: { maxAge: 1000, sameSite: true },
    set (s) { s.x = 1 }
  },
  {
    // A document as sessionkit writes it, loaded, changed and saved by
    // express-session: its own fields must survive.
    name: 'reloaded',
    cookie: { maxAge: 86400000 },
    stored: '{"cookie":{"originalMaxAge":86400000,"expires":"2026-01-03T03:04:05.678Z","secure":false,"httpOnly":true,"path":"/"},"__sessionkit":{"created":1767323045678,"deadline":1767927845678},"user":{"id":7}}',
    set (s) { s.seen = true }
  }
]

async function run (c) {
  const store = new session.MemoryStore()
  const mw = session({
    secret,
    store,
    resave: false,
    saveUninitialized: false,
    proxy: true,
    cookie: c.cookie
  })
  const sid = 'golden-' + c.name
  if (c.stored) store.sessions[sid] = c.stored
  const server = http.createServer((req, res) => {
    mw(req, res, () => {
      c.set(req.session)
      res.end('ok')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const headers = {}
  if (c.https) headers['x-forwarded-proto'] = 'https'
  if (c.stored) headers.cookie = 'connect.sid=' + encodeURIComponent('s:' + signature.sign(sid, secret))
  await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: server.address().port, path: c.cookie.path || '/', headers }, (res) => {
      res.resume()
      res.on('end', resolve)
    }).on('error', reject)
  })
  server.close()
  const ids = Object.keys(store.sessions)
  if (ids.length !== 1) throw new Error(c.name + ': expected one session, got ' + ids.length)
  fs.writeFileSync(path.join(outDir, c.name + '.json'), store.sessions[ids[0]])
}

(async () => {
  for (const c of cases) await run(c)
})().catch((err) => { console.error(err); process.exit(1) })
