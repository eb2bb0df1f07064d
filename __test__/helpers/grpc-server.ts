/**
 * An in-process stand-in for the Scouter server's gRPC API (`scouter.grpc.v1`, loaded from the
 * same `proto/scouter.proto` the Rust client is generated from), so that the gRPC transport can
 * be tested end to end on a real HTTP/2 socket, plaintext or TLS.
 *
 * `Login` issues tokens; `InsertMessage` requires the metadata `authorization: Bearer <token>`
 * with a token it issued and has not revoked (else `UNAUTHENTICATED`), parses `message_record`
 * as JSON with a `records` array (else `INVALID_ARGUMENT`; the record format itself is not
 * checked) and stores it. Tests can script the next `InsertMessage` answers (any status code),
 * revoke every token, rotate the token through the `x-refreshed-token` response header, and slow
 * answers down. Every call is recorded with its metadata, its answer and its timing.
 *
 * Token rotation (`refreshTokenOnNextInsert`): the next successful `InsertMessage` answers with a
 * new token in `x-refreshed-token`, and the token it was sent with is revoked when that answer
 * is sent, so a client that keeps using it gets `UNAUTHENTICATED` (and has to log in again,
 * which shows in `logins()`). With `graceMs` the old token stays valid that much longer, for
 * clients whose calls overlap the rotation.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'

import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

import type { ServerRecords } from '../../ts/records'

export const PROTO_PATH = join(__dirname, '..', '..', 'proto', 'scouter.proto')

export interface GrpcTestServerOptions {
  /** Accepted login user name; default `admin`. */
  username?: string
  /** Accepted login password; default `admin`. */
  password?: string
  /** Serve TLS with this key and certificate chain (PEM) instead of plaintext. */
  tls?: { key: Buffer; cert: Buffer }
}

export type GrpcMethod = 'Login' | 'RefreshToken' | 'ValidateToken' | 'InsertMessage'

/** One call, as the server saw and answered it. */
export interface RecordedCall {
  method: GrpcMethod
  /** Request metadata (custom and `authorization`), keys lower-cased, repeated values joined with `, `. */
  metadata: Record<string, string>
  /** `Login`: the user name sent (the password is only checked, never kept). */
  username?: string
  /** `InsertMessage`: the `message_record` bytes as text. */
  body?: string
  /** The status code answered: 0 (`OK`) or a `grpc.status` code. */
  code: number
  /** The status message of a failed call. */
  details?: string
  /** Response header metadata sent (`x-refreshed-token`). */
  responseMetadata: Record<string, string>
  /** When the call arrived and when it was answered (`performance.now()`, ms). */
  receivedAt: number
  settledAt: number
}

/** A scripted answer for one upcoming `InsertMessage` (see `failNext`). */
export interface ScriptedStatus {
  code: grpc.status
  details?: string
}

/** The generated service definitions, loaded once. */
function services(): { auth: grpc.ServiceDefinition; messages: grpc.ServiceDefinition } {
  const definition = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
  const loaded = grpc.loadPackageDefinition(definition) as any
  const v1 = loaded.scouter.grpc.v1
  return { auth: v1.AuthService.service, messages: v1.MessageService.service }
}

type UnaryCall = grpc.ServerUnaryCall<any, any>
type Callback = grpc.sendUnaryData<any>

export class GrpcTestServer {
  /** `http://127.0.0.1:<port>`, or `https://localhost:<port>` with TLS. */
  readonly uri: string
  readonly port: number
  readonly calls: RecordedCall[] = []

  private readonly server: grpc.Server
  private readonly username: string
  private readonly password: string
  /** Valid tokens, and for a rotated one when it stops being valid (ms since epoch; Infinity otherwise). */
  private readonly tokens = new Map<string, number>()
  private readonly accepted: string[] = []
  private readonly scripted: ScriptedStatus[] = []
  private successfulLogins = 0
  private rotation: { graceMs: number } | null = null
  private responseDelayMs = 0
  private closed = false

  private constructor(server: grpc.Server, port: number, options: GrpcTestServerOptions) {
    this.server = server
    this.port = port
    this.username = options.username ?? 'admin'
    this.password = options.password ?? 'admin'
    this.uri = options.tls === undefined ? `http://127.0.0.1:${port}` : `https://localhost:${port}`
  }

  /** Starts a server on 127.0.0.1 with an OS-assigned port (or `port`). */
  static async start(options: GrpcTestServerOptions = {}, port = 0): Promise<GrpcTestServer> {
    const server = new grpc.Server()
    let instance: GrpcTestServer | undefined
    const { auth, messages } = services()
    server.addService(auth, {
      Login: (call: UnaryCall, callback: Callback) => instance!.login(call, callback),
      RefreshToken: (call: UnaryCall, callback: Callback) => instance!.refreshToken(call, callback),
      ValidateToken: (call: UnaryCall, callback: Callback) => instance!.validateToken(call, callback),
    })
    server.addService(messages, {
      InsertMessage: (call: UnaryCall, callback: Callback) => instance!.insertMessage(call, callback),
    })
    const credentials =
      options.tls === undefined
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }], false)
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
    )
    instance = new GrpcTestServer(server, bound, options)
    return instance
  }

  /** Documents stored by `InsertMessage` (answered OK), parsed, in order. */
  documents(): ServerRecords[] {
    return this.accepted.map((text) => JSON.parse(text) as ServerRecords)
  }

  /** The exact `message_record` text of the stored documents, in order. */
  rawDocuments(): string[] {
    return [...this.accepted]
  }

  /** Successful logins so far. */
  logins(): number {
    return this.successfulLogins
  }

  /** The recorded calls of one method, in order of arrival. */
  callsOf(method: GrpcMethod): RecordedCall[] {
    return this.calls.filter((call) => call.method === method)
  }

  /**
   * Scripts the answers to the next `InsertMessage` calls, in order of arrival. They apply after
   * the token check (a call without a valid token gets `UNAUTHENTICATED` and does not consume
   * one); a scripted call never stores its document. A scripted `UNAUTHENTICATED` also revokes
   * the token the call was made with, as a real expiry would, so the client must log in again.
   */
  failNext(...answers: Array<ScriptedStatus | grpc.status>): void {
    this.scripted.push(...answers.map((answer) => (typeof answer === 'number' ? { code: answer } : answer)))
  }

  /** Revokes every token issued so far: the next `InsertMessage` with one gets `UNAUTHENTICATED`. */
  expireTokens(): void {
    this.tokens.clear()
  }

  /**
   * The next successful `InsertMessage` answers with a new token in `x-refreshed-token`; the token
   * it was sent with is revoked once that answer is sent, or `graceMs` later.
   */
  refreshTokenOnNextInsert({ graceMs = 0 }: { graceMs?: number } = {}): void {
    this.rotation = { graceMs }
  }

  /** Holds every later `InsertMessage` this long before answering it. 0 turns it off. */
  setResponseDelayMs(ms: number): void {
    this.responseDelayMs = ms
  }

  /** A valid token without a login. */
  issueToken(): string {
    const token = randomBytes(24).toString('base64url')
    this.tokens.set(token, Infinity)
    return token
  }

  /** Stops the server at once, cancelling calls in progress. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.server.forceShutdown()
  }

  private valid(token: string | undefined): boolean {
    if (token === undefined) return false
    const until = this.tokens.get(token)
    if (until === undefined) return false
    if (Date.now() >= until) {
      this.tokens.delete(token)
      return false
    }
    return true
  }

  private record(method: GrpcMethod, call: UnaryCall, extra: Partial<RecordedCall>): RecordedCall {
    const metadata: Record<string, string> = {}
    for (const [key, values] of Object.entries(call.metadata.getMap())) metadata[key.toLowerCase()] = String(values)
    // getMap keeps only the first value of a key: join them all for the keys tests look at.
    const authorization = call.metadata.get('authorization')
    if (authorization.length > 0) metadata.authorization = authorization.map(String).join(', ')
    const recorded: RecordedCall = { method, metadata, code: -1, responseMetadata: {}, receivedAt: performance.now(), settledAt: NaN, ...extra }
    this.calls.push(recorded)
    return recorded
  }

  private static answer(recorded: RecordedCall, callback: Callback, error: ScriptedStatus | null, response?: unknown): void {
    recorded.code = error === null ? grpc.status.OK : error.code
    if (error !== null) recorded.details = error.details ?? ''
    recorded.settledAt = performance.now()
    if (error === null) callback(null, response)
    else callback({ code: error.code, details: error.details ?? '' }, null)
  }

  private login(call: UnaryCall, callback: Callback): void {
    const request = call.request as { username: string; password: string }
    const recorded = this.record('Login', call, { username: request.username })
    if (request.username !== this.username || request.password !== this.password) {
      // The real server answers a refused login with an OK status and a non-success body.
      GrpcTestServer.answer(recorded, callback, null, { token: '', status: 'error', message: 'invalid username or password' })
      return
    }
    this.successfulLogins += 1
    GrpcTestServer.answer(recorded, callback, null, { token: this.issueToken(), status: 'success', message: 'logged in' })
  }

  private refreshToken(call: UnaryCall, callback: Callback): void {
    const request = call.request as { access_token: string }
    const recorded = this.record('RefreshToken', call, {})
    if (!this.valid(request.access_token)) {
      GrpcTestServer.answer(recorded, callback, { code: grpc.status.UNAUTHENTICATED, details: 'invalid token' })
      return
    }
    this.tokens.delete(request.access_token)
    GrpcTestServer.answer(recorded, callback, null, { token: this.issueToken(), status: 'success', message: 'refreshed' })
  }

  private validateToken(call: UnaryCall, callback: Callback): void {
    const request = call.request as { token: string }
    const recorded = this.record('ValidateToken', call, {})
    const valid = this.valid(request.token)
    GrpcTestServer.answer(recorded, callback, null, { is_authenticated: valid, status: 'success', message: valid ? 'valid' : 'invalid' })
  }

  private insertMessage(call: UnaryCall, callback: Callback): void {
    const bytes = (call.request as { message_record: Buffer }).message_record
    const body = bytes.toString('utf8')
    const recorded = this.record('InsertMessage', call, { body })
    const authorization = call.metadata.get('authorization').map(String)
    const token = authorization.length === 1 ? /^Bearer (\S+)$/.exec(authorization[0]!)?.[1] : undefined
    if (!this.valid(token)) {
      GrpcTestServer.answer(recorded, callback, { code: grpc.status.UNAUTHENTICATED, details: 'missing, unknown or expired token' })
      return
    }
    const scripted = this.scripted.shift()
    if (scripted !== undefined && scripted.code === grpc.status.UNAUTHENTICATED) this.tokens.delete(token!)
    const finish = (): void => {
      if (scripted !== undefined) {
        GrpcTestServer.answer(recorded, callback, { details: `scripted failure ${grpc.status[scripted.code]}`, ...scripted })
        return
      }
      let document: unknown
      try {
        document = JSON.parse(body)
      } catch (error) {
        GrpcTestServer.answer(recorded, callback, { code: grpc.status.INVALID_ARGUMENT, details: `message_record is not JSON: ${String(error)}` })
        return
      }
      if (document === null || typeof document !== 'object' || !Array.isArray((document as { records?: unknown }).records)) {
        GrpcTestServer.answer(recorded, callback, { code: grpc.status.INVALID_ARGUMENT, details: 'message_record has no records array' })
        return
      }
      if (this.rotation !== null) {
        const { graceMs } = this.rotation
        this.rotation = null
        const fresh = this.issueToken()
        const headers = new grpc.Metadata()
        headers.set('x-refreshed-token', fresh)
        call.sendMetadata(headers)
        recorded.responseMetadata['x-refreshed-token'] = fresh
        if (graceMs > 0) this.tokens.set(token!, Date.now() + graceMs)
        else this.tokens.delete(token!)
      }
      this.accepted.push(body)
      GrpcTestServer.answer(recorded, callback, null, { status: 'success', message: 'inserted' })
    }
    if (this.responseDelayMs > 0) setTimeout(finish, this.responseDelayMs)
    else finish()
  }
}
