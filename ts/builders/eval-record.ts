/**
 * `EvalRecord`: one GenAI interaction for a Scouter 0.14+ server (0.25 today) to evaluate, what a
 * GenAI eval profile's queue takes. Like `LLMRecord`, its context is serialized and its identity
 * (UUIDv7 `uid`, `createdAt`) stamped when it is built; tags can be added until it is inserted.
 */
import native = require('../native')
import { builderError, describe, isPlainObject } from './check'
import { contextJsonOf } from './json-fields'
import type { JsonObject } from './llm-record'

/** What an `EvalRecord` is built from. */
export interface EvalRecordInit {
  /** What the evaluation reads: a plain, JSON-serializable object (e.g. `{ input, response }`). */
  context: JsonObject
  /** Your own id for the record (`record_id` on the wire); `""` when absent. */
  id?: string
  /** The session the record belongs to; a fresh UUIDv7 when absent. */
  sessionId?: string
  /** The trace it belongs to: exactly 32 hex digits (an OpenTelemetry trace id); sent in lower case, as the original does. */
  traceId?: string
}

/** Appends a record's seven wire strings to `out`; set in `EvalRecord`'s static block. */
let pushWire: (record: EvalRecord, out: string[]) => void

/** The brand check of `EvalRecord`, set in its static block. */
let evalRecordBrand: (value: object) => boolean

const TRACE_ID = /^[0-9a-fA-F]{32}$/

/**
 * @example
 * queue.insert(new EvalRecord({ context: { input: 'hi', response: 'hello' } }).addTag('env', 'prod'))
 */
export class EvalRecord {
  /** A hyphenated UUIDv7, from the time the record was built. */
  readonly uid: string
  /** RFC 3339 UTC with nanoseconds, the time encoded in `uid`. */
  readonly createdAt: string
  /** The context, as given. */
  readonly context: JsonObject
  /** Your id for the record (`""` when none was given). */
  readonly id: string
  /** The session id, given or generated. */
  readonly sessionId: string
  /** The trace id in lower case, or `null`. */
  readonly traceId: string | null
  /**
   * What crosses into native code, kept where no caller can change it (the public fields above
   * are writable from JavaScript). `#uid` is also the brand `Object.create` lacks.
   */
  readonly #uid: string
  readonly #createdAt: string
  readonly #contextJson: string
  readonly #id: string
  readonly #sessionId: string
  readonly #traceId: string
  readonly #tags: string[] = []

  static {
    evalRecordBrand = (value) => #uid in value
    pushWire = (record, out) => {
      out.push(record.#uid, record.#createdAt, record.#contextJson, record.#id, record.#sessionId, record.#traceId, JSON.stringify(record.#tags))
    }
  }

  /**
   * @throws {TypeError} when `context` is not a plain object that serializes to a JSON object,
   * `id` or `sessionId` is not a string, or `traceId` is not 32 hex digits.
   */
  constructor(init: EvalRecordInit) {
    if (!isPlainObject(init)) {
      throw new TypeError(`EvalRecord needs { context, id?, sessionId?, traceId? }, got ${describe(init)}`)
    }
    let context: unknown
    let id: unknown
    let sessionId: unknown
    let traceId: unknown
    try {
      ;({ context, id, sessionId, traceId } = init)
    } catch (error) {
      throw builderError('EvalRecord', error)
    }
    const contextJson = contextJsonOf('EvalRecord', context)
    if (id !== undefined && typeof id !== 'string') {
      throw new TypeError(`EvalRecord id must be a string, got ${describe(id)}`)
    }
    if (sessionId !== undefined && (typeof sessionId !== 'string' || sessionId === '')) {
      throw new TypeError(`EvalRecord sessionId must be a non-empty string, got ${describe(sessionId)}`)
    }
    if (traceId !== undefined && traceId !== null && (typeof traceId !== 'string' || !TRACE_ID.test(traceId))) {
      throw new TypeError(`EvalRecord traceId must be 32 hex digits, got ${describe(traceId)}`)
    }
    const identity = native.recordIdentity(sessionId === undefined ? 1 : 0) as string[]
    const [uid, createdAt] = identity as [string, string]
    this.uid = this.#uid = uid
    this.createdAt = this.#createdAt = createdAt
    this.context = context as JsonObject
    this.#contextJson = contextJson
    this.id = this.#id = id ?? ''
    this.sessionId = this.#sessionId = sessionId ?? (identity[2] as string)
    this.traceId = typeof traceId === 'string' ? traceId.toLowerCase() : null
    this.#traceId = this.traceId ?? ''
  }

  /**
   * Adds a `key=value` tag. Returns the record, so calls chain. A tag added after `insert` is
   * not sent: the record's wire form is taken when it is inserted.
   * @throws {TypeError} when `key` is not a non-empty string without `=`, or `value` is not a string.
   */
  addTag(key: string, value: string): this {
    if (typeof key !== 'string' || key === '' || key.includes('=')) {
      throw new TypeError(`EvalRecord tag key must be a non-empty string without '=', got ${describe(key)}`)
    }
    if (typeof value !== 'string') {
      throw new TypeError(`EvalRecord tag value must be a string, got ${describe(value)}`)
    }
    this.#tags.push(`${key}=${value}`)
    return this
  }

  /** The tags as sent, `"key=value"`, in the order they were added. */
  get tags(): readonly string[] {
    return [...this.#tags]
  }
}

/**
 * Whether `value` was built by the `EvalRecord` constructor (a brand check, not `instanceof`).
 * @internal
 */
export function isEvalRecord(value: unknown): value is EvalRecord {
  return typeof value === 'object' && value !== null && evalRecordBrand(value)
}

/** Appends the seven strings of `record` that cross N-API. @internal */
export function evalWireFields(record: EvalRecord, out: string[]): void {
  pushWire(record, out)
}
