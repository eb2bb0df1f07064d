/**
 * `LLMRecord`: one LLM interaction to be scored by the Scouter server. Its JSON is serialized and
 * its identity (UUIDv7 `uid`, `createdAt`) stamped when it is built, as in the original, so a
 * later change to the context object does not change what is sent, and `insert` only hands over
 * ready strings.
 */
import native = require('../native')
import { describe, isPlainObject } from './check'

/** Any value `JSON.stringify` can represent. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** What an `LLMRecord` is built from. */
export interface LLMRecordInit {
  /** The record's context: a plain, JSON-serializable object (e.g. `{ input, response }`). */
  context: Record<string, unknown>
  /** The prompt, any JSON value. */
  prompt?: unknown
}

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
   * @throws {TypeError} when `context` is not a plain object, or it or `prompt` cannot be
   * serialized to JSON (a cycle, a bigint, a function as the whole value).
   */
  constructor(init: LLMRecordInit) {
    if (!isPlainObject(init)) {
      throw new TypeError(`LLMRecord needs { context, prompt? }, got ${describe(init)}`)
    }
    const { context, prompt } = init
    if (!isPlainObject(context)) {
      throw new TypeError(`LLMRecord context must be a plain object, got ${describe(context)}`)
    }
    this.contextJson = toJson('context', context)
    this.promptJson = prompt === undefined || prompt === null ? '' : toJson('prompt', prompt)
    const [uid, createdAt] = native.llmRecordIdentity() as [string, string]
    this.uid = uid
    this.createdAt = createdAt
    this.context = context
    this.prompt = prompt ?? null
  }
}

function toJson(what: string, value: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (err) {
    throw new TypeError(`LLMRecord ${what} is not JSON-serializable: ${(err as Error).message}`, { cause: err })
  }
  if (json === undefined) {
    throw new TypeError(`LLMRecord ${what} is not JSON-serializable: got ${describe(value)}`)
  }
  return json
}
