/**
 * An in-process stand-in for the Scouter server's HTTP API (contract sections 4 and 5), so that
 * the HTTP transport can be tested end to end on a real socket without a real server.
 * It speaks both wire formats: v0.9 documents on `POST /scouter/drift` (`SCOUTER_QUEUE.md`) and
 * 0.25 documents on `POST /scouter/message` (`SCOUTER_WIRE_0_25.md`); each path accepts only
 * its own format.
 *
 * It is deliberately strict: it logs users in, checks bearer tokens and their expiry, and
 * validates every published document against the wire format (section 4) as exactly as the
 * real server's typed deserialisation would, including what `JSON.parse` cannot see (an
 * integer written as `3.0`, a duplicate key). Tests can also script failures (429/5xx with
 * `Retry-After`, a hang, a connection reset mid-response), slow every answer down, expire or
 * rotate tokens, and restrict the spaces a user may write to. Every exchange is recorded with
 * when it arrived and when it settled, so that retry gaps and overlapping requests can be
 * measured on the server side.
 * It refuses everything the real server refuses, and also what the real clients never send
 * (a field the record does not have, an empty `records`, kinds or profiles mixed in one document,
 * a status other than `Pending`), so that a client that differs from the original shows up.
 * `__test__/scouter-server.spec.ts` proves that this server is itself faithful.
 */
import { randomBytes } from 'node:crypto'
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import type { ServerRecords } from '../../ts/records'
import { scaled } from './slowdown'

export interface ScouterTestServerOptions {
  /** Accepted login user name; default `admin`. */
  username?: string
  /** Accepted login password; default `admin`. */
  password?: string
  /** How long a token issued by a login stays valid, in ms; default 60000 (scaled by SCOUTER_TEST_SLOWDOWN). */
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

/** A scripted answer for one upcoming publish, on either path (see `failNext`). */
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
const MESSAGE_PATH = '/scouter/message'

/** Which wire format a document is in; each publish path accepts exactly one. */
export type WireFormat = 'v0.9' | 'v0.25'

/** The publish path of each wire format. */
export const PUBLISH_PATHS: Readonly<Record<WireFormat, string>> = { 'v0.9': DRIFT_PATH, 'v0.25': MESSAGE_PATH }

/** The body of a successful publish, as the real server of each generation words it. */
const SUCCESS_MESSAGES: Readonly<Record<WireFormat, string>> = {
  'v0.9': 'Drift records published',
  'v0.25': 'Message queued for processing',
}

function formatOfPath(pathname: string): WireFormat | undefined {
  if (pathname === DRIFT_PATH) return 'v0.9'
  if (pathname === MESSAGE_PATH) return 'v0.25'
  return undefined
}

/** A 0.25 document (`SCOUTER_WIRE_0_25.md`), as accepted on `POST /scouter/message`. */
export interface MessageDocument {
  records: Array<
    | { Spc: { created_at: string; uid: string; feature: string; value: number; entity_id: number } }
    | {
        Psi: { created_at: string; uid: string; feature: string; bin_id: number; bin_count: number; entity_id: number }
      }
    | { Custom: { created_at: string; uid: string; metric: string; value: number; entity_id: number } }
    | { GenAIEval: { record: Record<string, unknown> } }
  >
}

export class ScouterTestServer {
  readonly uri: string
  readonly requests: RecordedRequest[] = []

  private readonly server: Server
  private readonly username: string
  private readonly password: string
  private readonly tokenTtlMs: number
  /** Valid tokens and when they expire (ms since epoch). Expiry is checked on use: no timers. */
  private readonly tokens = new Map<string, number>()
  private readonly accepted: Array<{ format: WireFormat; text: string }> = []
  private readonly scripted: ScriptedResponse[] = []
  private successfulLogins = 0
  private rotateOnNextPost = false
  private rotateOnEveryPost = false
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
    // A minute, scaled by SCOUTER_TEST_SLOWDOWN: under emulation a test's login and its POSTs can
    // be further apart than that.
    this.tokenTtlMs = options.tokenTtlMs ?? scaled(60_000)
    const { port } = server.address() as AddressInfo
    this.uri = `http://127.0.0.1:${port}`
  }

  /** Starts a server on 127.0.0.1 with an OS-assigned port. */
  static async start(options: ScouterTestServerOptions = {}): Promise<ScouterTestServer> {
    let instance: ScouterTestServer | undefined
    const server = createServer((req, res) => instance!.handle(req, res))
    // Node's default idle keep-alive limit (5 s), scaled: on an emulated, starved event loop a
    // client's next request on an idle connection can come later than that and meet it closing.
    server.keepAliveTimeout = scaled(5000)
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

  /**
   * Documents accepted (answered 2xx and stored), in order: by default those of
   * `POST /scouter/drift` and `POST /scouter/message` together, or those of one wire format.
   */
  documents(format?: 'v0.9'): ServerRecords[]
  documents(format: 'v0.25'): MessageDocument[]
  documents(format?: WireFormat): Array<ServerRecords | MessageDocument> {
    return this.rawDocuments(format).map((text) => JSON.parse(text) as ServerRecords)
  }

  /** The exact body text of the accepted documents, in order (all, or those of one wire format). */
  rawDocuments(format?: WireFormat): string[] {
    return this.accepted.filter((d) => format === undefined || d.format === format).map((d) => d.text)
  }

  /** Successful logins so far. */
  logins(): number {
    return this.successfulLogins
  }

  /**
   * Holds every later publish (`POST /scouter/drift` or `/scouter/message`) for `ms` before
   * answering it (after the token check and the script, before the document is validated and
   * stored), like a slow server. A client that hangs up meanwhile gets nothing and nothing is
   * stored (`abandoned`). 0 turns it off.
   */
  setResponseDelayMs(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`delay must be a finite number >= 0, got ${ms}`)
    this.responseDelayMs = ms
  }

  /** The most publish requests (either path) that were ever open (received, not yet settled) at once. */
  maxConcurrentPosts(): number {
    return this.maxOpenPosts
  }

  /** Publish requests (either path) open right now. */
  openPostCount(): number {
    return this.openPosts
  }

  /**
   * Scripts the answers to the next publish requests (either path), consumed in order of
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

  /**
   * While on, every successful publish answers with `Authorization: Bearer <new token>` and
   * revokes the token it was sent with (as `refreshTokenOnNextPost`, each time): a client that
   * does not take the new token gets 401 on its next publish.
   */
  rotateTokensOnEveryPost(on: boolean): void {
    this.rotateOnEveryPost = on
  }

  /**
   * Restricts the spaces v0.9 records may be written to (403 otherwise); `null` allows every space.
   * 0.25 records carry no space (the server resolves their entity from `uid`): not checked.
   */
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
      for (const abandon of Array.from(this.held)) abandon()
      this.server.close(() => resolve())
      // Node >= 18.2: without this, an idle keep-alive socket holds close() open for seconds.
      this.server.closeAllConnections?.()
    })
    return this.closed
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const receivedAt = performance.now()
    const isPost =
      req.method === 'POST' && formatOfPath(new URL(req.url ?? '/', 'http://localhost').pathname) !== undefined
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
    const format = formatOfPath(pathname)
    if (format !== undefined) return method === 'POST' ? this.publish(req, bytes, format) : notAllowed('POST')
    return error(404, `no route for ${method} ${pathname}`)
  }

  private login(req: IncomingMessage): Answer {
    if (req.headers['username'] !== this.username || req.headers['password'] !== this.password) {
      return error(401, 'invalid username or password')
    }
    this.successfulLogins += 1
    return json(200, { token: this.issueToken() })
  }

  private publish(req: IncomingMessage, bytes: Buffer, format: WireFormat): Answer {
    const token = this.bearer(req)
    if (token === null) return error(401, 'missing, invalid or expired bearer token')

    const scripted = this.scripted.shift()
    if (scripted !== undefined && !isSuccess(scripted.status)) return scriptedAnswer(scripted, format)

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
    const verdict = validateDocument(parsed, format)
    if (verdict.error !== undefined) return error(422, verdict.error)

    if (verdict.space !== null && this.allowedSpaces !== null && !this.allowedSpaces.has(verdict.space)) {
      return error(403, `user may not write to space ${JSON.stringify(verdict.space)}`)
    }

    // Stored only when the answer is actually sent: a held request whose client left is not.
    const answer =
      scripted !== undefined
        ? scriptedAnswer(scripted, format)
        : json(200, { status: 'success', message: SUCCESS_MESSAGES[format] })
    answer.commit = () => this.accepted.push({ format, text })
    if (this.rotateOnNextPost || this.rotateOnEveryPost) {
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

function scriptedAnswer(scripted: ScriptedResponse, format: WireFormat): Answer {
  const answer: Answer =
    scripted.body !== undefined
      ? { status: scripted.status, headers: { 'content-type': 'application/json' }, body: scripted.body }
      : isSuccess(scripted.status)
        ? json(scripted.status, { status: 'success', message: SUCCESS_MESSAGES[format] })
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

export type Json = null | boolean | number | string | Json[] | JsonObject
export interface JsonObject {
  [key: string]: Json
}

export interface Parsed {
  value: Json
  /** Source text of each number, by path such as `records.0.Psi.bin_id`. */
  numbers: Map<string, string>
  /** Paths of keys that appeared more than once in their object. */
  duplicates: string[]
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
// oxlint-disable-next-line no-control-regex -- JSON strings may not hold raw control characters: this is the rule.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y
const WHITESPACE = /[ \t\n\r]*/y

/**
 * Parses JSON strictly, keeping what `JSON.parse` loses: each number's source text by its path
 * (`records.0.Psi.bin_id` -> `3` or `3.0`) and duplicate keys. Throws on a syntax error.
 */
export function parseJson(text: string): Parsed {
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
// Wire-format validation: v0.9 (contract section 4) and 0.25 (SCOUTER_WIRE_0_25.md). Each check
// names the path of what is wrong.

/** v0.9 fields of each kind, in wire order; every one is required and no other is allowed. */
const COMMON = ['created_at', 'space', 'name', 'version'] as const
const FIELDS_V09 = {
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

/**
 * 0.25 fields of each kind, in the order the real client writes them. Every one is required and
 * no other is allowed. The real server is laxer in two ways that no real client relies on: it
 * ignores unknown fields, and it defaults the `Option` fields (`trace_id`, `updated_at`, ...) and
 * `tags` when they are missing; a compatible client sends them all, as the original does.
 */
const FIELDS_V025 = {
  Spc: ['created_at', 'uid', 'feature', 'value', 'entity_id'],
  Psi: ['created_at', 'uid', 'feature', 'bin_id', 'bin_count', 'entity_id'],
  Custom: ['created_at', 'uid', 'metric', 'value', 'entity_id'],
  GenAIEval: [
    'record_id',
    'session_id',
    'created_at',
    'uid',
    'context',
    'id',
    'updated_at',
    'processing_started_at',
    'processing_ended_at',
    'processing_duration',
    'entity_id',
    'entity_uid',
    'status',
    'entity_type',
    'retry_count',
    'trace_id',
    'tags',
  ],
} as const

/** The fields of each record kind of each wire format, in the order the real client writes them to a broker. */
export const WIRE_FIELDS: Readonly<Record<WireFormat, Readonly<Record<string, readonly string[]>>>> = {
  'v0.9': FIELDS_V09,
  'v0.25': FIELDS_V025,
}

type KindV09 = keyof typeof FIELDS_V09
type KindV025 = keyof typeof FIELDS_V025
type Kind = KindV09 | KindV025
const KINDS: Readonly<Record<WireFormat, readonly Kind[]>> = {
  'v0.9': Object.keys(FIELDS_V09) as KindV09[],
  'v0.25': Object.keys(FIELDS_V025) as KindV025[],
}
/** The kinds whose record sits in a `{"record": {...}}` wrapper. */
const WRAPPED: ReadonlySet<Kind> = new Set<Kind>(['LLMDrift', 'GenAIEval'])

const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/
/** Hyphenated, version nibble 7, RFC 9562 variant (10xx). */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i
/** A JSON integer as written: an optional minus, no fraction or exponent. */
const INTEGER = /^-?(0|[1-9]\d*)$/
/** A 0.25 `trace_id`: 16 bytes in hex (the server's `hex::decode_to_slice` takes either case). */
const TRACE_ID = /^[0-9a-f]{32}$/i

const I32: readonly [bigint, bigint] = [-(2n ** 31n), 2n ** 31n - 1n]
const I64: readonly [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n]
const U64: readonly [bigint, bigint] = [0n, 2n ** 64n - 1n]
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

/**
 * The error message, or what the server needs of a valid document: the space every record writes
 * to (v0.9), or null (0.25 records carry no space).
 */
function validateDocument(
  parsed: Parsed,
  format: WireFormat,
): { error: string; space?: undefined } | { error?: undefined; space: string | null } {
  try {
    return { space: checkDocument(parsed, format) }
  } catch (err) {
    if (err instanceof Invalid) return { error: err.message }
    throw err
  }
}

function checkDocument({ value: doc, numbers, duplicates }: Parsed, format: WireFormat): string | null {
  if (duplicates.length > 0) throw new Invalid(`${duplicates[0]}: duplicate field`)
  if (!isObject(doc)) throw new Invalid('document: expected an object {"records": [...]}')
  exactFields(doc, ['records'], 'document')
  const records = doc['records']
  if (!Array.isArray(records)) throw new Invalid('records: expected an array')
  if (records.length === 0) throw new Invalid('records: must not be empty')

  const kinds = KINDS[format]
  const profile = format === 'v0.9' ? '(space, name, version)' : 'profile uid'
  let first: { kind: Kind; key: string } | undefined
  records.forEach((element, i) => {
    const at = `records[${i}]`
    if (!isObject(element)) throw new Invalid(`${at}: expected an object with one key among ${kinds.join(', ')}`)
    const keys = Object.keys(element)
    const kind = keys[0] as Kind
    if (keys.length !== 1 || !kinds.includes(kind)) {
      throw new Invalid(`${at}: expected exactly one key among ${kinds.join(', ')}, got [${keys.join(', ')}]`)
    }
    const lexeme = (field: string): string | undefined => numbers.get(`records.${i}.${field}`)
    const key =
      format === 'v0.9'
        ? checkRecordV09(kind as KindV09, element[kind], `${at}.${kind}`, lexeme)
        : checkRecordV025(kind as KindV025, element[kind], `${at}.${kind}`, lexeme)
    if (first === undefined) first = { kind, key }
    else if (kind !== first.kind) throw new Invalid(`${at}: a ${kind} record in a document of ${first.kind} records`)
    else if (key !== first.key) {
      throw new Invalid(`${at}: records of more than one ${profile}: ${key} after ${first.key}`)
    }
  })
  return format === 'v0.9' ? (JSON.parse(first!.key) as string[])[0]! : null
}

/**
 * The record of `kind` inside its element: the object itself, or, for the wrapped kinds, the
 * object in `{"record": {...}}`. Also returns the path of its numbers below `records.<i>`.
 */
function unwrap(
  kind: Kind,
  body: Json | undefined,
  at: string,
): { record: JsonObject; at: string; numberPath: string } {
  if (!WRAPPED.has(kind)) {
    if (!isObject(body)) throw new Invalid(`${at}: expected an object`)
    return { record: body, at, numberPath: kind }
  }
  if (!isObject(body)) throw new Invalid(`${at}: expected an object {"record": {...}}`)
  exactFields(body, ['record'], at)
  const inner = body['record']
  if (!isObject(inner)) throw new Invalid(`${at}.record: expected an object`)
  return { record: inner, at: `${at}.record`, numberPath: `${kind}.record` }
}

/** The field checks shared by both formats, bound to one record. */
function fieldChecks(
  record: JsonObject,
  at: string,
  numberPath: string,
  lexeme: (field: string) => string | undefined,
) {
  const checks = {
    nonEmptyString(field: string): string {
      const v = record[field]
      if (typeof v !== 'string' || v.length === 0)
        throw new Invalid(`${at}.${field}: expected a non-empty string, got ${JSON.stringify(v)}`)
      return v
    },
    string(field: string): string {
      const v = record[field]
      if (typeof v !== 'string') throw new Invalid(`${at}.${field}: expected a string, got ${JSON.stringify(v)}`)
      return v
    },
    finiteNumber(field: string): void {
      // JSON has no NaN or infinity: a client that serialises one writes null, which is refused here.
      const v = record[field]
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new Invalid(`${at}.${field}: expected a finite number, got ${JSON.stringify(v)}`)
    },
    /**
     * A JSON integer within `[min, max]`, checked on the source text: `3.0` parses to the
     * integer 3 but an integer field refuses it, and a value past 2^53 is compared exactly.
     */
    integer(field: string, [min, max]: readonly [bigint, bigint], what: string): void {
      const v = record[field]
      const text = lexeme(`${numberPath}.${field}`)
      const inRange = text !== undefined && INTEGER.test(text) && BigInt(text) >= min && BigInt(text) <= max
      if (typeof v !== 'number' || !inRange) {
        throw new Invalid(`${at}.${field}: expected ${what}, got ${text ?? JSON.stringify(v)}`)
      }
    },
    isNull(field: string): void {
      if (record[field] !== null) {
        throw new Invalid(`${at}.${field}: expected null, got ${JSON.stringify(record[field])}`)
      }
    },
    createdAt(): void {
      const createdAt = record['created_at']
      if (typeof createdAt !== 'string' || !isRfc3339Utc(createdAt)) {
        throw new Invalid(
          `${at}.created_at: expected an RFC 3339 UTC timestamp ending in Z, got ${JSON.stringify(createdAt)}`,
        )
      }
    },
    lowerCaseMetric(): void {
      const metric = checks.nonEmptyString('metric')
      if (metric !== metric.toLowerCase()) {
        throw new Invalid(`${at}.metric: must be lower-case, got ${JSON.stringify(metric)}`)
      }
    },
    contextObject(): void {
      if (!isObject(record['context']))
        throw new Invalid(`${at}.context: expected a JSON object, got ${JSON.stringify(record['context'])}`)
    },
    pending(): void {
      if (record['status'] !== 'Pending')
        throw new Invalid(`${at}.status: expected "Pending", got ${JSON.stringify(record['status'])}`)
    },
    uuidV7(field: string): void {
      const v = record[field]
      if (typeof v !== 'string' || !UUID_V7.test(v))
        throw new Invalid(`${at}.${field}: expected a hyphenated UUIDv7, got ${JSON.stringify(v)}`)
    },
  }
  return checks
}

/**
 * Checks one v0.9 record of `kind`; `lexeme(field)` gives a number's source text by its path below
 * `records.<i>`. Returns the record's (space, name, version) as a JSON key.
 */
function checkRecordV09(
  kind: KindV09,
  body: Json | undefined,
  element: string,
  lexeme: (field: string) => string | undefined,
): string {
  const { record, at, numberPath } = unwrap(kind, body, element)
  exactFields(record, FIELDS_V09[kind], at)
  const check = fieldChecks(record, at, numberPath, lexeme)
  // usize / u64 on the v0.9 server: a negative number is refused.
  const unsigned = (field: string): void => check.integer(field, U64, 'a non-negative JSON integer')

  check.createdAt()
  const space = check.nonEmptyString('space')
  const name = check.nonEmptyString('name')
  const version = check.nonEmptyString('version')

  switch (kind) {
    case 'Spc':
      check.nonEmptyString('feature')
      check.finiteNumber('value')
      break
    case 'Psi':
      check.nonEmptyString('feature')
      unsigned('bin_id')
      unsigned('bin_count')
      break
    case 'Custom':
      check.lowerCaseMetric()
      check.finiteNumber('value')
      break
    case 'LLMDrift':
      check.contextObject()
      check.pending()
      unsigned('id')
      check.uuidV7('uid')
      for (const field of ['score', 'updated_at', 'processing_started_at', 'processing_ended_at']) check.isNull(field)
      check.isNull('processing_duration')
      break
  }
  return JSON.stringify([space, name, version])
}

/**
 * Checks one 0.25 record of `kind` (`SCOUTER_WIRE_0_25.md`); `lexeme(field)` gives a number's
 * source text by its path below `records.<i>`. Returns the uid of the profile it belongs to.
 */
function checkRecordV025(
  kind: KindV025,
  body: Json | undefined,
  element: string,
  lexeme: (field: string) => string | undefined,
): string {
  const { record, at, numberPath } = unwrap(kind, body, element)
  exactFields(record, FIELDS_V025[kind], at)
  const check = fieldChecks(record, at, numberPath, lexeme)
  // i32 on the server; a bin id or count is never negative (the real client never sends one).
  const i32Count = (field: string): void => check.integer(field, [0n, I32[1]], 'a non-negative JSON integer within i32')
  const i32 = (field: string): void => check.integer(field, I32, 'a JSON integer within i32')

  check.createdAt()
  check.nonEmptyString('uid')
  i32('entity_id')

  switch (kind) {
    case 'Spc':
      check.nonEmptyString('feature')
      check.finiteNumber('value')
      return record['uid'] as string
    case 'Psi':
      check.nonEmptyString('feature')
      i32Count('bin_id')
      i32Count('bin_count')
      return record['uid'] as string
    case 'Custom':
      check.lowerCaseMetric()
      check.finiteNumber('value')
      return record['uid'] as string
    case 'GenAIEval': {
      check.string('record_id')
      check.string('session_id')
      check.uuidV7('uid')
      check.contextObject()
      check.integer('id', I64, 'a JSON integer within i64')
      for (const field of ['updated_at', 'processing_started_at', 'processing_ended_at', 'processing_duration'])
        check.isNull(field)
      const entityUid = check.nonEmptyString('entity_uid')
      check.pending()
      if (record['entity_type'] !== 'GenAI')
        throw new Invalid(`${at}.entity_type: expected "GenAI", got ${JSON.stringify(record['entity_type'])}`)
      check.integer('retry_count', [0n, I32[1]], 'a non-negative JSON integer within i32')
      const traceId = record['trace_id']
      if (traceId !== null && (typeof traceId !== 'string' || !TRACE_ID.test(traceId)))
        throw new Invalid(`${at}.trace_id: expected null or 32 hex digits, got ${JSON.stringify(traceId)}`)
      const tags = record['tags']
      if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string'))
        throw new Invalid(`${at}.tags: expected an array of strings, got ${JSON.stringify(tags)}`)
      return entityUid
    }
  }
}
