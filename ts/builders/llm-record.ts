/**
 * `LLMRecord`: one LLM interaction to be scored by the Scouter server. Its JSON is serialized and
 * its identity (UUIDv7 `uid`, `createdAt`) stamped when it is built, as in the original, so a
 * later change to the context object does not change what is sent, and `insert` only hands over
 * ready strings.
 */
import native = require('../native')
import { builderError, describe, isPlainObject } from './check'
import { contextJsonOf, jsonOf } from './json-fields'

/**
 * Any value `JSON.stringify` writes as itself: no bigint, function, symbol, `Map` or class
 * instance unless it has a `toJSON` (a `Date` does); an `undefined` property is left out, as
 * JSON does. Declared with a type alias, not
 * an `interface`, a context type is checked member by member.
 */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject | WithToJson

/** An object that says itself how it serializes (a `Date`, a class with `toJSON`). */
export type WithToJson = {
  /** What `JSON.stringify` writes in its place. */
  toJSON(key?: string): unknown
}

/** A JSON object: what a record's context must be. */
export type JsonObject = { readonly [key: string]: JsonValue | undefined }

/** What an `LLMRecord` is built from. */
export interface LLMRecordInit {
  /** The record's context: a plain, JSON-serializable object (e.g. `{ input, response }`). */
  context: JsonObject
  /** The prompt, any JSON value. */
  prompt?: JsonValue
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
  readonly context: JsonObject
  /** The prompt, as given (`null` when none). */
  readonly prompt: JsonValue
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
    this.context = context as JsonObject
    this.prompt = (prompt ?? null) as JsonValue
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
