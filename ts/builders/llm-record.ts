/**
 * `LLMRecord`: one LLM interaction to be scored by the Scouter server. Its JSON is serialized and
 * its identity (UUIDv7 `uid`, `createdAt`) stamped when it is built, as in the original, so a
 * later change to the context object does not change what is sent, and `insert` only hands over
 * ready strings.
 */
import native = require('../native')
import { builderError, describe, isPlainObject } from './check'
import { contextJsonOf, jsonOf } from './json-fields'

/** Any value `JSON.stringify` can represent. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** What an `LLMRecord` is built from. */
export interface LLMRecordInit {
  /** The record's context: a plain, JSON-serializable object (e.g. `{ input, response }`). */
  context: Record<string, unknown>
  /** The prompt, any JSON value. */
  prompt?: unknown
}

/** Appends a record's four wire strings to `out`; set in `LLMRecord`'s static block. */
let pushWire: (record: LLMRecord, out: string[]) => void

/** The brand check of `LLMRecord`, set in its static block. */
let llmRecordBrand: (value: object) => boolean

/**
 * @example
 * queue.insert(new LLMRecord({ context: { input: 'hi', response: 'hello' } }))
 */
export class LLMRecord {
  /** A hyphenated UUIDv7, from the time the record was built. */
  readonly uid: string
  /** RFC 3339 UTC with nanoseconds, the time encoded in `uid`. */
  readonly createdAt: string
  /** The context, as given. */
  readonly context: Readonly<Record<string, unknown>>
  /** The prompt, as given (`null` when none). */
  readonly prompt: unknown
  /** @internal */
  readonly contextJson: string
  /** @internal Empty when there is no prompt. */
  readonly promptJson: string
  /**
   * What crosses into native code, kept where no caller can change it: the public fields above
   * are writable from JavaScript, and one that is not a string would fail the whole batch at the
   * N-API boundary. `#uid` is also the brand that `Object.create(LLMRecord.prototype)` lacks.
   */
  readonly #uid: string
  readonly #createdAt: string
  readonly #contextJson: string
  readonly #promptJson: string

  static {
    llmRecordBrand = (value) => #uid in value
    pushWire = (record, out) => {
      out.push(record.#uid, record.#createdAt, record.#contextJson, record.#promptJson)
    }
  }

  /**
   * @throws {TypeError} when `context` is not a plain object that serializes to a JSON object,
   * or it or `prompt` cannot be serialized to JSON (a cycle, a bigint, a function as the whole
   * value, a getter or `toJSON` that throws).
   */
  constructor(init: LLMRecordInit) {
    if (!isPlainObject(init)) {
      throw new TypeError(`LLMRecord needs { context, prompt? }, got ${describe(init)}`)
    }
    let context: unknown
    let prompt: unknown
    try {
      ;({ context, prompt } = init)
    } catch (error) {
      throw builderError('LLMRecord', error)
    }
    const contextJson = contextJsonOf('LLMRecord', context)
    const promptJson = prompt === undefined || prompt === null ? '' : jsonOf('LLMRecord', 'prompt', prompt)
    const [uid, createdAt] = native.recordIdentity(0) as [string, string]
    this.uid = this.#uid = uid
    this.createdAt = this.#createdAt = createdAt
    this.context = context as Record<string, unknown>
    this.prompt = prompt ?? null
    this.contextJson = this.#contextJson = contextJson
    this.promptJson = this.#promptJson = promptJson
  }
}

/**
 * Whether `value` was built by the `LLMRecord` constructor. A brand check, not `instanceof`:
 * `Object.create(LLMRecord.prototype)` passes `instanceof` but has none of the fields.
 * @internal
 */
export function isLLMRecord(value: unknown): value is LLMRecord {
  return typeof value === 'object' && value !== null && llmRecordBrand(value)
}

/** Appends the four strings of `record` that cross N-API (uid, createdAt, context, prompt JSON). @internal */
export function wireFields(record: LLMRecord, out: string[]): void {
  pushWire(record, out)
}
