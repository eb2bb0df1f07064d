/**
 * An in-process stand-in for the Scouter server's HTTP API (contract sections 4 and 5), so that
 * the HTTP transport can be tested end to end on a real socket without a real server.
 *
 * It is deliberately strict: it logs users in, checks bearer tokens and their expiry, and
 * validates every published document against the wire format (section 4) as exactly as the
 * real server's typed deserialisation would, including what `JSON.parse` cannot see (an
 * integer written as `3.0`, a duplicate key). Tests can also script failures (429/5xx with
 * `Retry-After`, a hang, a connection reset mid-response), slow every answer down, expire or
 * rotate tokens, and restrict the spaces a user may write to. Every exchange is recorded with
 * when it arrived and when it settled, so that retry gaps and overlapping requests can be
 * measured on the server side.
 * `__test__/scouter-server.spec.ts` proves that this server is itself faithful.
 */
import { randomBytes } from 'node:crypto'
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import type { ServerRecords } from '../../ts/records'

export interface ScouterTestServerOptions {
  /** Accepted login user name; default `admin`. */
  username?: string
  /** Accepted login password; default `admin`. */
  password?: string
  /** How long a token issued by a login stays valid, in ms; default 60000. */
  tokenTtlMs?: number
}

/**
 * How an exchange ended: `answered` (the whole response was written), `reset` (a scripted
 * `reset`: the status line and part of the body, then the socket was destroyed) or `abandoned`
 * (the client hung up while the server was still holding the request: nothing was sent).
 */
export type RequestOutcome = 'answered' | 'reset' | 'abandoned'

/** One HTTP exchange, as the server saw and answered it. */
export interface RecordedRequest {
  method: string
  /** The request target as sent, query string included. */
  path: string
  /** Request headers, names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string>
  body: string
  /** The status sent in the status line; 0 when the exchange was abandoned before any was sent. */
  status: number
  response: string
  /** Response headers, names lower-cased. */
  responseHeaders: Record<string, string>
  outcome: RequestOutcome
  /** When the request's headers arrived (`performance.now()`, ms). */
  receivedAt: number
  /** When the exchange ended: answer written, socket reset, or client gone (`performance.now()`, ms). */
  settledAt: number
}

/** A scripted answer for one upcoming `POST /scouter/drift` (see `failNext`). */
export interface ScriptedResponse {
  status: number
  /** Sent as `Retry-After: <seconds>` when set. */
  retryAfterSeconds?: number
  /**
   * The response body; default `{"status":"error","message":"scripted failure <status>"}` for a
   * non-2xx status, the usual success body for a 2xx one.
   */
  body?: string
  /**
   * Hold the request this long before answering (on top of `setResponseDelayMs`), like a server
   * that hangs. A client that hangs up first gets nothing: the exchange is recorded as
   * `abandoned` and the document is not stored.
   */
  hangMs?: number
  /**
   * Write the status line, the headers (with the `Content-Length` of the whole body) and only
   * the first half of the body, then destroy the socket: a connection lost mid-response. As on
   * the real server, which writes its status only once the records are inserted, a 2xx status
   * means the document was stored (and a client that retries it makes a duplicate); any other
   * status means it was not.
   */
  reset?: boolean
}

/** `failNext` shorthands for the faults that carry no status of their own. */
export const faults = {
  /** Hold the request for `ms` (default 10 s), then answer 200 if the client is still there. */
  hang: (ms = 10_000): ScriptedResponse => ({ status: 200, hangMs: ms }),
  /** A connection reset after the status line and part of the body (see `ScriptedResponse.reset`). */
  reset: (status = 200): ScriptedResponse => ({ status, reset: true }),
}

/** Bodies above this are refused with 413 rather than buffered without bound. */
const MAX_BODY_BYTES = 16 * 1024 * 1024

/** serde_json's default recursion limit: deeper documents are refused, never a stack overflow. */
const MAX_DEPTH = 128

const LOGIN_PATH = '/scouter/auth/login'
const DRIFT_PATH = '/scouter/drift'

export class ScouterTestServer {
  readonly uri: string
  readonly requests: RecordedRequest[] = []

  private readonly server: Server
  private readonly username: string
  private readonly password: string
  private readonly tokenTtlMs: number
  /** Valid tokens and when they expire (ms since epoch). Expiry is checked on use: no timers. */
  private readonly tokens = new Map<string, number>()
  private readonly accepted: string[] = []
  private readonly scripted: ScriptedResponse[] = []
  private successfulLogins = 0
  private rotateOnNextPost = false
  private allowedSpaces: Set<string> | null = null
  private closed: Promise<void> | null = null
  private responseDelayMs = 0
  /** Drift POSTs received and not yet settled, and the most there ever were at once. */
  private openPosts = 0
  private maxOpenPosts = 0
  /** Requests being held (a delay or a scripted hang): how to abandon each, for `close()`. */
  private readonly held = new Set<() => void>()

  private constructor(server: Server, options: ScouterTestServerOptions) {
    this.server = server
    this.username = options.username ?? 'admin'
    this.password = options.password ?? 'admin'
    this.tokenTtlMs = options.tokenTtlMs ?? 60_000
    const { port } = server.address() as AddressInfo
    this.uri = `http://127.0.0.1:${port}`
  }

  /** Starts a server on 127.0.0.1 with an OS-assigned port. */
  static async start(options: ScouterTestServerOptions = {}): Promise<ScouterTestServer> {
    let instance: ScouterTestServer | undefined
    const server = createServer((req, res) => instance!.handle(req, res))
    // Malformed HTTP never reaches the handler; answer it and drop the socket instead of crashing.
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
      else socket.destroy()
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    instance = new ScouterTestServer(server, options)
    return instance
  }

  /** Documents accepted by `POST /scouter/drift` (answered 2xx and stored), in order. */
  documents(): ServerRecords[] {
    return this.accepted.map((text) => JSON.parse(text) as ServerRecords)
  }

  /** The exact body text of the accepted documents, in order. */
  rawDocuments(): string[] {
    return [...this.accepted]
  }

  /** Successful logins so far. */
  logins(): number {
    return this.successfulLogins
  }

  /**
   * Holds every later `POST /scouter/drift` for `ms` before answering it (after the token check
   * and the script, before the document is validated and stored), like a slow server. A client
   * that hangs up meanwhile gets nothing and nothing is stored (`abandoned`). 0 turns it off.
   */
  setResponseDelayMs(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`delay must be a finite number >= 0, got ${ms}`)
    this.responseDelayMs = ms
  }

  /** The most `POST /scouter/drift` requests that were ever open (received, not yet settled) at once. */
  maxConcurrentPosts(): number {
    return this.maxOpenPosts
  }

  /** `POST /scouter/drift` requests open right now. */
  openPostCount(): number {
    return this.openPosts
  }

  /**
   * Scripts the answers to the next `POST /scouter/drift` requests, consumed in order of
   * arrival. They are applied after the token check (a request without a valid token still gets
   * 401 and does not consume one) and before validation. A non-2xx scripted answer never stores
   * the document; a 2xx one stores it if it is valid (else the request gets the validation
   * error), so that a client's handling of e.g. 202 or 204 can be tested. `hangMs` and `reset`
   * (see `ScriptedResponse`, and `faults`) script a server that hangs or a connection lost
   * mid-response; neither ever stores the document unless a hung request is still there to be
   * answered 2xx.
   */
  failNext(...responses: ScriptedResponse[]): void {
    this.scripted.push(...responses)
  }

  /** Invalidates every token issued so far: the next POST with one of them gets 401. */
  expireTokens(): void {
    this.tokens.clear()
  }

  /**
   * The next successful POST answers with `Authorization: Bearer <new token>`, and the token it
   * was sent with stops being valid once that response is sent.
   */
  refreshTokenOnNextPost(): void {
    this.rotateOnNextPost = true
  }

  /** Restricts the spaces records may be written to (403 otherwise); `null` allows every space. */
  allowSpaces(spaces: string[] | null): void {
    this.allowedSpaces = spaces === null ? null : new Set(spaces)
  }

  /** A valid token without a login, as an operator would hand out in `SCOUTER_AUTH_TOKEN`. */
  issueToken(): string {
    const token = randomBytes(24).toString('base64url')
    this.tokens.set(token, Date.now() + this.tokenTtlMs)
    return token
  }

  /** Stops listening and closes every connection, idle keep-alive ones included. Idempotent. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      // Held requests are not waited for: they are recorded as `abandoned`, their sockets destroyed below.
      for (const abandon of [...this.held]) abandon()
      this.server.close(() => resolve())
      // Node >= 18.2: without this, an idle keep-alive socket holds close() open for seconds.
      this.server.closeAllConnections?.()
    })
    return this.closed
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const receivedAt = performance.now()
    const isPost = req.method === 'POST' && new URL(req.url ?? '/', 'http://localhost').pathname === DRIFT_PATH
    let open = isPost
    if (isPost) {
      this.openPosts += 1
      this.maxOpenPosts = Math.max(this.maxOpenPosts, this.openPosts)
    }
    const settle = (): void => {
      if (!open) return
      open = false
      this.openPosts -= 1
    }
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) tooLarge = true
      else chunks.push(chunk)
    })
    req.on('error', () => res.destroy())
    // Fires once the response is finished or the connection is gone, whichever comes first.
    res.once('close', settle)
    req.on('end', () => {
      const bytes = Buffer.concat(chunks)
      let answer: Answer
      try {
        answer = tooLarge ? error(413, `body larger than ${MAX_BODY_BYTES} bytes`) : this.route(req, bytes)
      } catch (err) {
        // A bug here must show up as a 500 in the test, never as a crashed test process.
        answer = error(500, `test server error: ${String(err)}`)
      }
      const exchange: Exchange = { req, res, bytes, answer, receivedAt, settle }
      const delay = (answer.holdMs ?? 0) + (isPost ? this.responseDelayMs : 0)
      if (delay <= 0) {
        this.send(exchange)
        return
      }
      const timer = setTimeout(() => {
        this.held.delete(abandon)
        res.off('close', abandon)
        if (res.destroyed || req.socket.destroyed) abandon()
        else this.send(exchange)
      }, delay)
      let abandoned = false
      const abandon = (): void => {
        if (abandoned) return
        abandoned = true
        clearTimeout(timer)
        this.held.delete(abandon)
        res.off('close', abandon)
        this.record(exchange, 0, '', {}, 'abandoned')
        settle()
      }
      this.held.add(abandon)
      res.once('close', abandon)
    })
  }

  private route(req: IncomingMessage, bytes: Buffer): Answer {
    const method = req.method ?? ''
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    // A known path with the wrong method gets 405 (as the real, axum-based server answers).
    if (pathname === LOGIN_PATH) return method === 'GET' ? this.login(req) : notAllowed('GET')
    if (pathname === DRIFT_PATH) return method === 'POST' ? this.publish(req, bytes) : notAllowed('POST')
    return error(404, `no route for ${method} ${pathname}`)
  }

  private login(req: IncomingMessage): Answer {
    if (req.headers['username'] !== this.username || req.headers['password'] !== this.password) {
      return error(401, 'invalid username or password')
    }
    this.successfulLogins += 1
    return json(200, { token: this.issueToken() })
  }

  private publish(req: IncomingMessage, bytes: Buffer): Answer {
    const token = this.bearer(req)
    if (token === null) return error(401, 'missing, invalid or expired bearer token')

    const scripted = this.scripted.shift()
    if (scripted !== undefined && !isSuccess(scripted.status)) return scriptedAnswer(scripted)

    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (contentType !== 'application/json') {
      return error(415, `expected Content-Type: application/json, got ${req.headers['content-type'] ?? 'none'}`)
    }

    // Strict UTF-8: a body that is not text is refused, never silently "repaired".
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      return error(400, 'body is not valid UTF-8')
    }
    // Syntax errors get 400 and shape errors 422, as axum's `Json` extractor answers them.
    let parsed: Parsed
    try {
      parsed = parseJson(text)
    } catch (err) {
      return error(400, `body is not JSON: ${(err as Error).message}`)
    }
    const verdict = validateDocument(parsed)
    if (verdict.error !== undefined) return error(422, verdict.error)

    if (this.allowedSpaces !== null && !this.allowedSpaces.has(verdict.space)) {
      return error(403, `user may not write to space ${JSON.stringify(verdict.space)}`)
    }

    // Stored only when the answer is actually sent: a held request whose client left is not.
    const answer =
      scripted !== undefined
        ? scriptedAnswer(scripted)
        : json(200, { status: 'success', message: 'Drift records published' })
    answer.commit = () => this.accepted.push(text)
    if (this.rotateOnNextPost) {
      this.rotateOnNextPost = false
      answer.headers['authorization'] = `Bearer ${this.issueToken()}`
      answer.revoke = token
    }
    return answer
  }

  /** The request's bearer token when it is currently valid, else null. */
  private bearer(req: IncomingMessage): string | null {
    const match = /^Bearer +(\S+)\s*$/i.exec(req.headers['authorization'] ?? '')
    const token = match?.[1]
    if (token === undefined) return null
    const expiresAt = this.tokens.get(token)
    if (expiresAt === undefined) return null
    if (Date.now() >= expiresAt) {
      this.tokens.delete(token)
      return null
    }
    return token
  }

  private send(exchange: Exchange): void {
    const { req, res, answer } = exchange
    const headers: Record<string, string> = {
      'content-length': String(Buffer.byteLength(answer.body)),
      ...answer.headers,
    }
    if (answer.reset) {
      // The status line, the headers and half the body, then the connection is gone.
      const body = Buffer.from(answer.body)
      const head =
        `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}\r\n` +
        Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        '\r\n'
      const partial = body.subarray(0, Math.floor(body.length / 2))
      answer.commit?.()
      this.record(exchange, answer.status, partial.toString('utf8'), headers, 'reset')
      exchange.settle()
      const socket = req.socket
      socket.write(Buffer.concat([Buffer.from(head), partial]), () => socket.destroy())
      return
    }
    answer.commit?.()
    this.record(exchange, answer.status, answer.body, headers, 'answered')
    res.writeHead(answer.status, headers)
    res.end(answer.body)
    // The old token dies only once the response carrying its replacement has been sent.
    if (answer.revoke !== undefined) this.tokens.delete(answer.revoke)
  }

  private record(
    { req, bytes, receivedAt }: Exchange,
    status: number,
    response: string,
    responseHeaders: Record<string, string>,
    outcome: RequestOutcome,
  ): void {
    this.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: flattenHeaders(req.headers),
      body: bytes.toString('utf8'),
      status,
      response,
      responseHeaders,
      outcome,
      receivedAt,
      settledAt: performance.now(),
    })
  }
}

/** A request on its way to an answer. */
interface Exchange {
  req: IncomingMessage
  res: ServerResponse
  bytes: Buffer
  answer: Answer
  receivedAt: number
  /** Marks the exchange as no longer open (idempotent). */
  settle: () => void
}

// ---------------------------------------------------------------------------------------------
// Responses

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
  /** A token to invalidate after this response is sent. */
  revoke?: string
  /** Stores the document; run only when this answer is actually sent in full. */
  commit?: () => void
  /** Hold the request this long before answering (a scripted hang). */
  holdMs?: number
  /** Send half of the answer, then destroy the socket. */
  reset?: boolean
}

function json(status: number, value: unknown): Answer {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) }
}

function error(status: number, message: string): Answer {
  return json(status, { status: 'error', message })
}

function notAllowed(allow: string): Answer {
  const answer = error(405, `method not allowed; use ${allow}`)
  answer.headers['allow'] = allow
  return answer
}

function scriptedAnswer(scripted: ScriptedResponse): Answer {
  const answer: Answer =
    scripted.body !== undefined
      ? { status: scripted.status, headers: { 'content-type': 'application/json' }, body: scripted.body }
      : isSuccess(scripted.status)
        ? json(scripted.status, { status: 'success', message: 'Drift records published' })
        : error(scripted.status, `scripted failure ${scripted.status}`)
  if (scripted.retryAfterSeconds !== undefined) answer.headers['retry-after'] = String(scripted.retryAfterSeconds)
  if (scripted.hangMs !== undefined && scripted.hangMs > 0) answer.holdMs = scripted.hangMs
  if (scripted.reset === true) answer.reset = true
  return answer
}

const isSuccess = (status: number): boolean => status >= 200 && status < 300

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

// ---------------------------------------------------------------------------------------------
// A strict JSON parser that keeps what JSON.parse throws away: the source text of every number
// (to tell `3` from `3.0`) and duplicate keys (which serde rejects as "duplicate field", a data
// error, hence reported by validation as 422 rather than here as a syntax error).

type Json = null | boolean | number | string | Json[] | JsonObject
interface JsonObject {
  [key: string]: Json
}

interface Parsed {
  value: Json
  /** Source text of each number, by path such as `records.0.Psi.bin_id`. */
  numbers: Map<string, string>
  /** Paths of keys that appeared more than once in their object. */
  duplicates: string[]
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y
const WHITESPACE = /[ \t\n\r]*/y

function parseJson(text: string): Parsed {
  const numbers = new Map<string, string>()
  const duplicates: string[] = []
  let pos = 0

  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${pos}`)
  }
  const skipWhitespace = (): void => {
    WHITESPACE.lastIndex = pos
    WHITESPACE.exec(text)
    pos = WHITESPACE.lastIndex
  }
  const token = (re: RegExp): string | null => {
    re.lastIndex = pos
    const match = re.exec(text)
    if (match === null) return null
    pos = re.lastIndex
    return match[0]
  }
  const string = (): string => {
    const literal = token(STRING) ?? fail('invalid string')
    return JSON.parse(literal) as string // the regex has already checked the escapes
  }

  const value = (path: string, depth: number): Json => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`)
    skipWhitespace()
    const c = text[pos]
    if (c === '{') {
      pos += 1
      // No prototype: a key such as `__proto__` is just a key.
      const object = Object.create(null) as JsonObject
      skipWhitespace()
      if (text[pos] === '}') {
        pos += 1
        return object
      }
      for (;;) {
        skipWhitespace()
        const key = string()
        const keyPath = path === '' ? key : `${path}.${key}`
        if (Object.prototype.hasOwnProperty.call(object, key)) duplicates.push(keyPath)
        skipWhitespace()
        if (text[pos] !== ':') fail('expected ":"')
        pos += 1
        object[key] = value(keyPath, depth + 1)
        skipWhitespace()
        if (text[pos] === ',') pos += 1
        else if (text[pos] === '}') {
          pos += 1
          return object
        } else fail('expected "," or "}"')
      }
    }
    if (c === '[') {
      pos += 1
      const array: Json[] = []
      skipWhitespace()
      if (text[pos] === ']') {
        pos += 1
        return array
      }
      for (;;) {
        array.push(value(path === '' ? `${array.length}` : `${path}.${array.length}`, depth + 1))
        skipWhitespace()
        if (text[pos] === ',') pos += 1
        else if (text[pos] === ']') {
          pos += 1
          return array
        } else fail('expected "," or "]"')
      }
    }
    if (c === '"') return string()
    for (const [word, literal] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length
        return literal
      }
    }
    const number = token(NUMBER)
    if (number === null) return fail('unexpected character')
    numbers.set(path, number)
    return Number(number)
  }

  const result = value('', 0)
  skipWhitespace()
  if (pos !== text.length) fail('trailing characters')
  return { value: result, numbers, duplicates }
}

// ---------------------------------------------------------------------------------------------
// Wire-format validation (contract section 4). Each check names the path of what is wrong.

/** Fields of each kind, in wire order; every one is required and no other is allowed. */
const COMMON = ['created_at', 'space', 'name', 'version'] as const
const FIELDS = {
  Spc: [...COMMON, 'feature', 'value'],
  Psi: [...COMMON, 'feature', 'bin_id', 'bin_count'],
  Custom: [...COMMON, 'metric', 'value'],
  LLMDrift: [
    ...COMMON,
    'prompt',
    'context',
    'status',
    'id',
    'uid',
    'score',
    'updated_at',
    'processing_started_at',
    'processing_ended_at',
    'processing_duration',
  ],
} as const
type Kind = keyof typeof FIELDS
const KINDS = Object.keys(FIELDS) as Kind[]

const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/
/** Hyphenated, version nibble 7, RFC 9562 variant (10xx). */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i
/** A non-negative JSON integer as written: no sign, fraction or exponent. */
const UNSIGNED_INTEGER = /^(0|[1-9]\d*)$/

class Invalid extends Error {}

/**
 * RFC 3339 in UTC with a `Z`, and a real date and time: `Date.parse` is too lax for this (it
 * takes February 30 and 24:00), whereas the server's chrono refuses them. A leap second (`:60`)
 * is allowed, as chrono allows it.
 */
function isRfc3339Utc(text: string): boolean {
  const m = RFC3339_UTC.exec(text)
  if (m === null) return false
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
  return daysInMonth !== undefined && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 60
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Checks that `object` has exactly `fields`, naming the first missing or extra one. */
function exactFields(object: JsonObject, fields: readonly string[], path: string): void {
  const missing = fields.filter((f) => !(f in object))
  if (missing.length > 0) throw new Invalid(`${path}: missing field(s) ${missing.join(', ')}`)
  const extra = Object.keys(object).filter((k) => !fields.includes(k))
  if (extra.length > 0) throw new Invalid(`${path}: unknown field(s) ${extra.join(', ')}`)
}

/** The error message, or the space every record of the (valid) document writes to. */
function validateDocument(parsed: Parsed): { error: string; space?: undefined } | { error?: undefined; space: string } {
  try {
    return { space: checkDocument(parsed) }
  } catch (err) {
    if (err instanceof Invalid) return { error: err.message }
    throw err
  }
}

function checkDocument({ value: doc, numbers, duplicates }: Parsed): string {
  if (duplicates.length > 0) throw new Invalid(`${duplicates[0]}: duplicate field`)
  if (!isObject(doc)) throw new Invalid('document: expected an object {"records": [...]}')
  exactFields(doc, ['records'], 'document')
  const records = doc['records']
  if (!Array.isArray(records)) throw new Invalid('records: expected an array')
  if (records.length === 0) throw new Invalid('records: must not be empty')

  let first: { kind: Kind; key: string } | undefined
  records.forEach((element, i) => {
    const at = `records[${i}]`
    if (!isObject(element)) throw new Invalid(`${at}: expected an object with one key among ${KINDS.join(', ')}`)
    const keys = Object.keys(element)
    const kind = keys[0] as Kind
    if (keys.length !== 1 || !KINDS.includes(kind)) {
      throw new Invalid(`${at}: expected exactly one key among ${KINDS.join(', ')}, got [${keys.join(', ')}]`)
    }
    const key = checkRecord(kind, element[kind], `${at}.${kind}`, (field) => numbers.get(`records.${i}.${field}`))
    if (first === undefined) first = { kind, key }
    else if (kind !== first.kind) throw new Invalid(`${at}: a ${kind} record in a document of ${first.kind} records`)
    else if (key !== first.key) {
      throw new Invalid(`${at}: records of more than one (space, name, version): ${key} after ${first.key}`)
    }
  })
  return (JSON.parse(first!.key) as string[])[0]!
}

/**
 * Checks one record of `kind`; `lexeme(field)` gives a number's source text by its path below
 * `records.<i>`. Returns the record's (space, name, version) as a JSON key.
 */
function checkRecord(
  kind: Kind,
  body: Json | undefined,
  at: string,
  lexeme: (field: string) => string | undefined,
): string {
  let record: JsonObject
  let numberPath = kind as string
  if (kind === 'LLMDrift') {
    if (!isObject(body)) throw new Invalid(`${at}: expected an object {"record": {...}}`)
    exactFields(body, ['record'], at)
    const inner = body['record']
    at = `${at}.record`
    numberPath = 'LLMDrift.record'
    if (!isObject(inner)) throw new Invalid(`${at}: expected an object`)
    record = inner
  } else {
    if (!isObject(body)) throw new Invalid(`${at}: expected an object`)
    record = body
  }
  exactFields(record, FIELDS[kind], at)

  const nonEmptyString = (field: string): string => {
    const v = record[field]
    if (typeof v !== 'string' || v.length === 0)
      throw new Invalid(`${at}.${field}: expected a non-empty string, got ${JSON.stringify(v)}`)
    return v
  }
  const finiteNumber = (field: string): void => {
    // JSON has no NaN or infinity: a client that serialises one writes null, which is refused here.
    const v = record[field]
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Invalid(`${at}.${field}: expected a finite number, got ${JSON.stringify(v)}`)
  }
  const unsignedInteger = (field: string): void => {
    const v = record[field]
    const text = lexeme(`${numberPath}.${field}`)
    // Checked on the source text: `3.0` parses to the integer 3 but a u64 field refuses it.
    if (typeof v !== 'number' || text === undefined || !UNSIGNED_INTEGER.test(text) || !Number.isSafeInteger(v)) {
      throw new Invalid(`${at}.${field}: expected a non-negative JSON integer, got ${text ?? JSON.stringify(v)}`)
    }
  }
  const isNull = (field: string): void => {
    if (record[field] !== null) throw new Invalid(`${at}.${field}: expected null, got ${JSON.stringify(record[field])}`)
  }

  const createdAt = record['created_at']
  if (typeof createdAt !== 'string' || !isRfc3339Utc(createdAt)) {
    throw new Invalid(
      `${at}.created_at: expected an RFC 3339 UTC timestamp ending in Z, got ${JSON.stringify(createdAt)}`,
    )
  }
  const space = nonEmptyString('space')
  const name = nonEmptyString('name')
  const version = nonEmptyString('version')

  switch (kind) {
    case 'Spc':
      nonEmptyString('feature')
      finiteNumber('value')
      break
    case 'Psi':
      nonEmptyString('feature')
      unsignedInteger('bin_id')
      unsignedInteger('bin_count')
      break
    case 'Custom': {
      const metric = nonEmptyString('metric')
      if (metric !== metric.toLowerCase())
        throw new Invalid(`${at}.metric: must be lower-case, got ${JSON.stringify(metric)}`)
      finiteNumber('value')
      break
    }
    case 'LLMDrift': {
      if (!isObject(record['context']))
        throw new Invalid(`${at}.context: expected a JSON object, got ${JSON.stringify(record['context'])}`)
      if (record['status'] !== 'Pending')
        throw new Invalid(`${at}.status: expected "Pending", got ${JSON.stringify(record['status'])}`)
      unsignedInteger('id')
      const uid = record['uid']
      if (typeof uid !== 'string' || !UUID_V7.test(uid))
        throw new Invalid(`${at}.uid: expected a hyphenated UUIDv7, got ${JSON.stringify(uid)}`)
      for (const field of [
        'score',
        'updated_at',
        'processing_started_at',
        'processing_ended_at',
        'processing_duration',
      ])
        isNull(field)
      break
    }
  }
  return JSON.stringify([space, name, version])
}
