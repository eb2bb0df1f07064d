/**
 * Transport configs. Each takes an options object; every option falls back to its environment
 * variable and then to the default of the contract (section 5). The resolved values are what
 * `ScouterQueue.transportConfig` returns and what the native core receives.
 */

import native = require('../native')
import type { BindingTransportConfig } from '../native'
import { ConfigError } from '../errors'
import { isSecretKey, redactUrl, resolveNumber, resolveText } from './options'
import { describe, isPlainObject } from '../builders/check'
import type { ServerRecords } from '../records'

const REDACTED = '[redacted]'

/** `util.inspect.custom`, without importing `node:util`. */
const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never

/**
 * What every config does so that secrets never show: `String(config)`, `JSON.stringify(config)`
 * and `util.inspect(config)` (hence `console.log`) all print the redacted view.
 */
abstract class PrintableConfig {
  /** The options as they may be printed: secrets replaced by `[redacted]`. */
  abstract toJSON(): Record<string, unknown>

  /** The redacted view, as `ClassName {...}`: never a secret. */
  toString(): string {
    return `${this.constructor.name} ${JSON.stringify(this.toJSON())}`
  }

  /**
   * What `util.inspect` prints. Keyed by `Symbol.for('nodejs.util.inspect.custom')` (the same
   * symbol as `util.inspect.custom`) rather than imported from `node:util`, so that these
   * declarations compile for a consumer without `@types/node`.
   */
  [INSPECT](_depth: number, options: unknown, inspect: (value: unknown, options?: unknown) => string): string {
    return `${this.constructor.name} ${inspect(this.toJSON(), options)}`
  }
}

/** @internal How a config hands itself to the native core. */
export const toBinding = Symbol('scouter-queue.toBinding')

/** @internal */
export interface BindingParts {
  config: BindingTransportConfig
  mock?: native.BindingMockStore
}

/** Options of {@link FileConfig}. */
export interface FileConfigOptions {
  /**
   * The JSON-lines file; created if missing, appended to otherwise.
   * Env: `SCOUTER_FILE_PATH`. @default 'scouter-records.jsonl'
   */
  path?: string
  /** Retries after a failed write. @default 3 */
  maxRetries?: number
}

/**
 * The File transport (the embedded default): appends each published document as one line of
 * JSON. Needs no server; useful locally, in tests, and to ship records later.
 */
export class FileConfig extends PrintableConfig {
  /** Which transport this is, for telling configs apart. */
  readonly kind = 'file' as const
  /** The resolved file path. */
  readonly path: string
  /** Retries of a failed publish after the first attempt, with exponential backoff and jitter. */
  readonly maxRetries: number

  constructor(options: FileConfigOptions = {}) {
    super()
    this.path = resolveText('file', 'path', options.path) as string
    this.maxRetries = resolveNumber('file', 'maxRetries', options.maxRetries)
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, path: this.path, maxRetries: this.maxRetries }
  }

  /** @internal */
  [toBinding](): BindingParts {
    return { config: { kind: 'file', path: this.path, maxRetries: this.maxRetries } }
  }
}

/** Options of {@link MockConfig}. */
export interface MockConfigOptions {
  /** Retries after a failed publish (see {@link MockConfig.failNext}). @default 3 */
  maxRetries?: number
}

/**
 * The Mock transport: keeps published documents in memory, readable here. For tests and demos;
 * it can be made slow or failing to exercise flush, retries and accounting.
 *
 * @example
 * const mock = new MockConfig()
 * const queues = await ScouterQueue.fromPath({ psi: 'psi.json' }, mock)
 * // ... insert, then:
 * await queues.flush()
 * mock.documents() // [{ records: [{ Psi: {...} }, ...] }]
 */
export class MockConfig extends PrintableConfig {
  /** Which transport this is, for telling configs apart. */
  readonly kind = 'mock' as const
  /** Retries of a failed publish after the first attempt, with exponential backoff and jitter. */
  readonly maxRetries: number
  readonly #store: native.BindingMockStore

  constructor(options: MockConfigOptions = {}) {
    super()
    this.maxRetries = resolveNumber('mock', 'maxRetries', options.maxRetries)
    this.#store = new native.BindingMockStore(this.maxRetries)
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, maxRetries: this.maxRetries }
  }

  /** Every document published so far, parsed, in publish order. */
  documents(): ServerRecords[] {
    return this.#store.documents().map((json) => JSON.parse(json) as ServerRecords)
  }

  /** Every document published so far as the exact JSON text that went on the wire. */
  rawDocuments(): string[] {
    return this.#store.documents()
  }

  /** Publish attempts so far, retries included. */
  attempts(): number {
    return this.#store.attempts()
  }

  /** Forgets documents and attempts. */
  clear(): void {
    this.#store.clear()
  }

  /** Makes the next `count` publish attempts fail, retryably (like a broker blip) or not (like a 400). */
  failNext(count: number, { retryable = true }: { retryable?: boolean } = {}): void {
    this.#store.failNext(count, retryable)
  }

  /**
   * Makes every publish attempt fail from now on, retryably or not, until called with `false`:
   * a transport that is down, to exercise failover.
   */
  setFailing(failing: boolean, { retryable = true }: { retryable?: boolean } = {}): void {
    this.#store.setFailing(failing, retryable)
  }

  /** Makes every publish attempt take `ms` milliseconds, like a slow broker. */
  setLatencyMs(ms: number): void {
    this.#store.setLatencyMs(ms)
  }

  /** @internal */
  [toBinding](): BindingParts {
    return { config: { kind: 'mock' }, mock: this.#store }
  }
}

/** Kafka compression codecs (any letter case is accepted). */
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** Options of {@link KafkaConfig}. Each falls back to its environment variable, then its default. */
export interface KafkaConfigOptions {
  /** Bootstrap servers. Env: `KAFKA_BROKERS`. @default 'localhost:9092' */
  brokers?: string
  /** Env: `SCOUTER_KAFKA_TOPIC`, then `KAFKA_TOPIC`. @default 'scouter_monitoring' */
  topic?: string
  /** Any case (`ZSTD`, `Zstd`); mixed case only at run time. @default 'gzip' */
  compressionType?: KafkaCompression | Uppercase<KafkaCompression> | Capitalize<KafkaCompression>
  /** librdkafka `message.timeout.ms`. @default 600000 */
  messageTimeoutMs?: number
  /** librdkafka `message.max.bytes`. @default 2097164 */
  messageMaxBytes?: number
  /** Retries of a failed delivery after the first attempt. @default 3 */
  maxRetries?: number
  /** Extra librdkafka settings, passed through; the named options above override the same keys. */
  config?: Record<string, string | number | boolean>
  /** SASL user. Env: `KAFKA_USERNAME` or `KAFKA_KEY`. */
  username?: string
  /** SASL password. Env: `KAFKA_PASSWORD` or `KAFKA_SECRET`. Never printed. */
  password?: string
  /** `security.protocol` when SASL is on. Env: `KAFKA_SECURITY_PROTOCOL`. @default 'SASL_SSL' */
  securityProtocol?: string
  /** `sasl.mechanism` when SASL is on. Env: `KAFKA_SASL_MECHANISM`. @default 'PLAIN' */
  saslMechanism?: string
}

/**
 * Kafka: produces each document as one message (no key) to `topic`; a publish is done on its
 * delivery report. Idempotent by default (`enable.idempotence=true`, so `acks=all`). With
 * `username` and `password` (and no `sasl.*` key in `config`), SASL is set up:
 * `security.protocol` from `securityProtocol` (else `KAFKA_SECURITY_PROTOCOL`, else `SASL_SSL`),
 * `sasl.mechanism` from `saslMechanism` (else `KAFKA_SASL_MECHANISM`, else `PLAIN`).
 *
 * @example new KafkaConfig({ brokers: 'localhost:9092', topic: 'scouter_monitoring' })
 */
export class KafkaConfig extends PrintableConfig {
  /** Which transport this is, for telling configs apart. */
  readonly kind = 'kafka' as const
  /** The bootstrap servers, resolved (option, `KAFKA_BROKERS`, default). */
  readonly brokers: string
  /** The topic, resolved (option, `SCOUTER_KAFKA_TOPIC`, `KAFKA_TOPIC`, default). */
  readonly topic: string
  /** The compression codec, lower case. */
  readonly compressionType: KafkaCompression
  /** librdkafka `message.timeout.ms`: how long a message may wait for its delivery report. */
  readonly messageTimeoutMs: number
  /** librdkafka `message.max.bytes`. */
  readonly messageMaxBytes: number
  /** Retries of a failed publish after the first attempt, with exponential backoff and jitter. */
  readonly maxRetries: number
  /** The user name, resolved (the password is never kept where it could be printed). */
  readonly username: string | undefined
  /** The complete librdkafka configuration this config produces (secrets included: not printed). */
  readonly #settings: Record<string, string>

  constructor(options: KafkaConfigOptions = {}) {
    super()
    this.brokers = resolveText('kafka', 'brokers', options.brokers) as string
    this.topic = resolveText('kafka', 'topic', options.topic) as string
    this.compressionType = resolveText('kafka', 'compressionType', options.compressionType) as KafkaCompression
    this.messageTimeoutMs = resolveNumber('kafka', 'messageTimeoutMs', options.messageTimeoutMs)
    this.messageMaxBytes = resolveNumber('kafka', 'messageMaxBytes', options.messageMaxBytes)
    this.maxRetries = resolveNumber('kafka', 'maxRetries', options.maxRetries)
    this.username = resolveText('kafka', 'username', options.username)
    const password = resolveText('kafka', 'password', options.password)
    const securityProtocol = resolveText('kafka', 'securityProtocol', options.securityProtocol) as string
    const saslMechanism = resolveText('kafka', 'saslMechanism', options.saslMechanism) as string

    const extra: unknown = options.config ?? {}
    if (!isPlainObject(extra)) {
      throw new ConfigError(`option \`config\` must be a plain object of librdkafka settings, got ${describe(extra)}`)
    }
    const settings: Record<string, string> = { 'enable.idempotence': 'true' }
    for (const [key, value] of Object.entries(extra)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        throw new ConfigError(`option \`config\`: the value of ${JSON.stringify(key)} must be a string, number or boolean`)
      }
      settings[key] = String(value)
    }
    Object.assign(settings, {
      'bootstrap.servers': this.brokers,
      'compression.type': this.compressionType,
      'message.timeout.ms': String(this.messageTimeoutMs),
      'message.max.bytes': String(this.messageMaxBytes),
    })
    const hasSasl = Object.keys(extra).some((key) => key.startsWith('sasl.'))
    if (this.username !== undefined && password !== undefined && !hasSasl) {
      Object.assign(settings, {
        'sasl.username': this.username,
        'sasl.password': password,
        'security.protocol': securityProtocol,
        'sasl.mechanism': saslMechanism,
      })
    }
    this.#settings = settings
  }

  /** The librdkafka configuration that will be used, with secrets redacted. */
  get settings(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.#settings).map(([k, v]) => [k, isSecretKey(k) ? REDACTED : v]))
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      brokers: this.brokers,
      topic: this.topic,
      compressionType: this.compressionType,
      messageTimeoutMs: this.messageTimeoutMs,
      messageMaxBytes: this.messageMaxBytes,
      maxRetries: this.maxRetries,
      username: this.username,
      password: this.#settings['sasl.password'] === undefined ? undefined : REDACTED,
      settings: this.settings,
    }
  }

  /** @internal */
  [toBinding](): BindingParts {
    return { config: { kind: 'kafka', topic: this.topic, settings: { ...this.#settings }, maxRetries: this.maxRetries } }
  }
}

/** Options of {@link RabbitMQConfig}. Each falls back to its environment variable, then its default. */
export interface RabbitMQConfigOptions {
  /** A full AMQP URI. Env: `RABBITMQ_ADDR`. Else built from the options below. */
  address?: string
  /** Env: `RABBITMQ_HOST`. @default 'localhost' */
  host?: string
  /** Env: `RABBITMQ_PORT`. @default 5672 */
  port?: number
  /** Env: `RABBITMQ_USERNAME`. */
  username?: string
  /** Env: `RABBITMQ_PASSWORD`. Never printed. */
  password?: string
  /** Env: `RABBITMQ_QUEUE`. @default 'scouter_monitoring' */
  queue?: string
  /** Retries of a failed publish after the first attempt. @default 3 */
  maxRetries?: number
}

/**
 * RabbitMQ: declares `queue` and publishes each document to the default exchange with the queue
 * name as routing key: persistent, `mandatory`, with publisher confirms; done on the broker's ack.
 *
 * @example new RabbitMQConfig({ host: 'localhost', queue: 'scouter_monitoring' })
 */
export class RabbitMQConfig extends PrintableConfig {
  /** Which transport this is, for telling configs apart. */
  readonly kind = 'rabbitmq' as const
  /** The queue declared and published to, resolved. */
  readonly queue: string
  /** Retries of a failed publish after the first attempt, with exponential backoff and jitter. */
  readonly maxRetries: number
  readonly #address: string

  constructor(options: RabbitMQConfigOptions = {}) {
    super()
    const address = resolveText('rabbitmq', 'address', options.address)
    if (address !== undefined) {
      this.#address = address
    } else {
      const host = resolveText('rabbitmq', 'host', options.host) as string
      const port = resolveNumber('rabbitmq', 'port', options.port)
      const username = resolveText('rabbitmq', 'username', options.username)
      const password = resolveText('rabbitmq', 'password', options.password)
      const credentials = username !== undefined && password !== undefined ? `${encodeURIComponent(username)}:${encodeURIComponent(password)}@` : ''
      this.#address = `amqp://${credentials}${host}:${port}/%2f`
    }
    this.queue = resolveText('rabbitmq', 'queue', options.queue) as string
    this.maxRetries = resolveNumber('rabbitmq', 'maxRetries', options.maxRetries)
  }

  /** The AMQP URI in use, with its password redacted. */
  get address(): string {
    return redactUrl(this.#address)
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, address: this.address, queue: this.queue, maxRetries: this.maxRetries }
  }

  /** @internal */
  [toBinding](): BindingParts {
    return { config: { kind: 'rabbitmq', address: this.#address, queue: this.queue, maxRetries: this.maxRetries } }
  }
}

/** Options of {@link RedisConfig}. Each falls back to its environment variable, then its default. */
export interface RedisConfigOptions {
  /** Env: `REDIS_ADDR`. @default 'redis://127.0.0.1:6379' */
  address?: string
  /** Env: `REDIS_CHANNEL`. @default 'scouter_monitoring' */
  channel?: string
  /** Retries of a failed publish after the first attempt. @default 3 */
  maxRetries?: number
}

/**
 * Redis: `PUBLISH channel document`; at-most-once by Redis's own contract, done when the server
 * replies. Reconnects by itself.
 *
 * @example new RedisConfig({ address: 'redis://127.0.0.1:6379', channel: 'scouter_monitoring' })
 */
export class RedisConfig extends PrintableConfig {
  /** Which transport this is, for telling configs apart. */
  readonly kind = 'redis' as const
  /** The channel published to, resolved. */
  readonly channel: string
  /** Retries of a failed publish after the first attempt, with exponential backoff and jitter. */
  readonly maxRetries: number
  readonly #address: string

  constructor(options: RedisConfigOptions = {}) {
    super()
    this.#address = resolveText('redis', 'address', options.address) as string
    this.channel = resolveText('redis', 'channel', options.channel) as string
    this.maxRetries = resolveNumber('redis', 'maxRetries', options.maxRetries)
  }

  /** The address in use, with any password redacted. */
  get address(): string {
    return redactUrl(this.#address)
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, address: this.address, channel: this.channel, maxRetries: this.maxRetries }
  }

  /** @internal */
  [toBinding](): BindingParts {
    return { config: { kind: 'redis', address: this.#address, channel: this.channel, maxRetries: this.maxRetries } }
  }
}

/** Options of {@link HttpConfig}. Each falls back to its environment variable, then its default. */
export interface HttpConfigOptions {
  /**
   * Env: `SCOUTER_SERVER_URI`. @default 'http://localhost:8000'
   *
   * Credentials in it (`http://user:pass@host:8000`) are taken out: the config keeps and shows the
   * URI without them, and they log in unless `username`/`password` are given as options. Order,
   * for each of the two: the option, else the URI's, else the env var, else the default. (The
   * URI's win over the env vars because they were written together with the address.)
   */
  serverUri?: string
  /** Env: `SCOUTER_USERNAME`. @default 'admin' (see `serverUri` for credentials in the URI) */
  username?: string
  /** Env: `SCOUTER_PASSWORD`. @default 'admin' (see `serverUri`). Never printed. */
  password?: string
  /** A token to use until a 401 asks for a login. Env: `SCOUTER_AUTH_TOKEN`. Never printed. */
  authToken?: string
  /** Per request. @default 60000 */
  timeoutMs?: number
  /** Retries of a failed POST (429, 5xx, time-outs, lost connections) after the first. @default 3 */
  maxRetries?: number
}

/**
 * The Scouter server's HTTP API: logs in (`GET /scouter/auth/login`), then POSTs each document to
 * `/scouter/drift` with the bearer token; a refreshed token in a response is taken, a 401 logs in
 * again. 429/5xx/time-outs are retried honouring `Retry-After`; other 4xx fail without retry.
 *
 * @example new HttpConfig({ serverUri: 'http://localhost:8000', username: 'admin', password: 'admin' })
 */
export class HttpConfig extends PrintableConfig {
  /** Which transport this is, for telling configs apart. */
  readonly kind = 'http' as const
  /** The server address, resolved, without any `user:pass@`. */
  readonly serverUri: string
  /** The user name, resolved (the password is never kept where it could be printed). */
  readonly username: string
  /** How long one request may take before it counts as failed (retryable). */
  readonly timeoutMs: number
  /** Retries of a failed publish after the first attempt, with exponential backoff and jitter. */
  readonly maxRetries: number
  readonly #password: string
  readonly #authToken: string

  constructor(options: HttpConfigOptions = {}) {
    super()
    const given = splitUserinfo(resolveText('http', 'serverUri', options.serverUri) as string)
    this.serverUri = given.uri
    const credentials = scouterCredentials('http', options, given)
    this.username = credentials.username
    this.#password = credentials.password
    this.#authToken = resolveText('http', 'authToken', options.authToken) as string
    this.timeoutMs = resolveNumber('http', 'timeoutMs', options.timeoutMs)
    this.maxRetries = resolveNumber('http', 'maxRetries', options.maxRetries)
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      serverUri: this.serverUri,
      username: this.username,
      password: REDACTED,
      authToken: this.#authToken === '' ? undefined : REDACTED,
      timeoutMs: this.timeoutMs,
      maxRetries: this.maxRetries,
    }
  }

  /** @internal */
  [toBinding](): BindingParts {
    return {
      config: {
        kind: 'http',
        serverUri: this.serverUri,
        username: this.username,
        password: this.#password,
        authToken: this.#authToken,
        timeoutMs: this.timeoutMs,
        maxRetries: this.maxRetries,
      },
    }
  }
}

/** Options of {@link GrpcConfig}. Each falls back to its environment variable, then its default. */
export interface GrpcConfigOptions {
  /**
   * `http://host:port` (plaintext HTTP/2) or `https://host:port` (TLS, trusting the system's
   * certificate authorities). Env: `SCOUTER_GRPC_URI`. @default 'http://localhost:50051'
   *
   * Credentials in it (`http://user:pass@host:50051`) are taken out as for {@link HttpConfig}: the
   * config keeps and shows the URI without them, and they log in unless `username`/`password` are
   * given as options.
   */
  serverUri?: string
  /** Env: `SCOUTER_USERNAME`. @default 'admin' */
  username?: string
  /** Env: `SCOUTER_PASSWORD`. @default 'admin'. Never printed. */
  password?: string
  /** Each call (`Login`, `InsertMessage`) is abandoned after this long; also the call's deadline on the server. @default 60000 */
  timeoutMs?: number
  /**
   * Connecting (TCP, and the TLS handshake for `https://`) is abandoned after this long. The channel
   * connects on first use: to fail `fromPath` when the server cannot be reached, give `fromPath`
   * the `connectTimeoutMs` option. @default 10000
   */
  connectTimeoutMs?: number
  /** Retries of a failed call (`UNAVAILABLE`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, no answer) after the first. @default 3 */
  maxRetries?: number
}

/**
 * The Scouter server's gRPC API (`scouter.grpc.v1`): logs in once (`AuthService/Login`), then sends
 * each document to `MessageService/InsertMessage` with `authorization: Bearer <token>`; a token in
 * a response's `x-refreshed-token` header replaces it, an `UNAUTHENTICATED` answer logs in again.
 * `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED` and calls that got no answer are retried
 * with backoff; any other status fails the publish without retry.
 *
 * @example new GrpcConfig({ serverUri: 'http://localhost:50051', username: 'admin', password: 'admin' })
 */
export class GrpcConfig extends PrintableConfig {
  /** Which transport this is, for telling configs apart. */
  readonly kind = 'grpc' as const
  /** The server address, resolved, without any `user:pass@`. */
  readonly serverUri: string
  /** The user name, resolved (the password is never kept where it could be printed). */
  readonly username: string
  /** How long one request may take before it counts as failed (retryable). */
  readonly timeoutMs: number
  /** How long connecting (TCP and TLS handshake) may take. */
  readonly connectTimeoutMs: number
  /** Retries of a failed publish after the first attempt, with exponential backoff and jitter. */
  readonly maxRetries: number
  readonly #password: string

  constructor(options: GrpcConfigOptions = {}) {
    super()
    const given = splitUserinfo(resolveText('grpc', 'serverUri', options.serverUri) as string)
    if (!/^https?:\/\/[^/?#]/i.test(given.uri)) {
      throw new ConfigError(`option \`serverUri\` must be an http:// or https:// URI with a host, got ${JSON.stringify(redactUrl(given.uri).slice(0, 200))}`)
    }
    this.serverUri = given.uri
    const credentials = scouterCredentials('grpc', options, given)
    this.username = credentials.username
    this.#password = credentials.password
    this.timeoutMs = resolveNumber('grpc', 'timeoutMs', options.timeoutMs)
    this.connectTimeoutMs = resolveNumber('grpc', 'connectTimeoutMs', options.connectTimeoutMs)
    this.maxRetries = resolveNumber('grpc', 'maxRetries', options.maxRetries)
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      serverUri: this.serverUri,
      username: this.username,
      password: REDACTED,
      timeoutMs: this.timeoutMs,
      connectTimeoutMs: this.connectTimeoutMs,
      maxRetries: this.maxRetries,
    }
  }

  /** @internal */
  [toBinding](): BindingParts {
    return {
      config: {
        kind: 'grpc',
        serverUri: this.serverUri,
        username: this.username,
        password: this.#password,
        timeoutMs: this.timeoutMs,
        connectTimeoutMs: this.connectTimeoutMs,
        maxRetries: this.maxRetries,
      },
    }
  }
}

/**
 * The Scouter server credentials of `HttpConfig` and `GrpcConfig`: the `username`/`password`
 * options, else those taken out of `serverUri`, else `SCOUTER_USERNAME`/`SCOUTER_PASSWORD`, else
 * `admin`/`admin`.
 */
function scouterCredentials(
  scope: 'http' | 'grpc',
  options: { username?: string | undefined; password?: string | undefined },
  given: { username?: string | undefined; password?: string | undefined },
): { username: string; password: string } {
  return {
    username:
      options.username === undefined && given.username !== undefined
        ? given.username
        : (resolveText(scope, 'username', options.username) as string),
    password:
      options.password === undefined && given.password !== undefined
        ? given.password
        : (resolveText(scope, 'password', options.password) as string),
  }
}

/**
 * `uri` without its userinfo (`user:pass@`), and the decoded user name and password that were
 * there (`undefined` when absent or empty). Done on the text, not through `URL`, so that the rest
 * of the URI stays exactly as given (`URL` would add a trailing slash, lower-case the host...).
 * As in WHATWG URL parsing, the userinfo ends at the last `@` before the path, query or fragment.
 */
function splitUserinfo(uri: string): { uri: string; username?: string; password?: string } {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#\\]*)@/.exec(uri)
  if (match === null) return { uri }
  const userinfo = match[2] as string
  const colon = userinfo.indexOf(':')
  const user = decodeUserinfo(colon < 0 ? userinfo : userinfo.slice(0, colon))
  const password = colon < 0 ? '' : decodeUserinfo(userinfo.slice(colon + 1))
  return {
    uri: (match[1] as string) + uri.slice(match[0].length),
    ...(user === '' ? {} : { username: user }),
    ...(password === '' ? {} : { password }),
  }
}

function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** Any transport config accepted by `ScouterQueue.fromPath`. */
export type TransportConfig = FileConfig | MockConfig | KafkaConfig | RabbitMQConfig | RedisConfig | HttpConfig | GrpcConfig
