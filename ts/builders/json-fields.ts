/**
 * JSON checks shared by the record builders (`LLMRecord`, `EvalRecord`): a record's JSON is
 * serialized once, when it is built, so that every problem is a `TypeError` at that line and a
 * later change to the object does not change what is sent.
 * @internal
 */
import { describe, isPlainObject } from './check'

/** `JSON.stringify(value)`, or a `TypeError` naming the builder and the field. */
export function jsonOf(builder: string, what: string, value: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (err) {
    throw new TypeError(`${builder} ${what} is not JSON-serializable: ${messageOf(err)}`, { cause: err })
  }
  if (json === undefined) {
    throw new TypeError(`${builder} ${what} is not JSON-serializable: got ${describe(value)}`)
  }
  return json
}

/** The JSON of a record's context, which the server needs to be a JSON object. */
export function contextJsonOf(builder: string, context: unknown): string {
  if (!isPlainObject(context)) {
    throw new TypeError(`${builder} context must be a plain object, got ${describe(context)}`)
  }
  const json = jsonOf(builder, 'context', context)
  // A plain object whose toJSON returns an array or a scalar would put that on the wire.
  if (json.charCodeAt(0) !== 0x7b /* { */) {
    throw new TypeError(`${builder} context must serialize to a JSON object, got ${json.slice(0, 40)}`)
  }
  return json
}

/** The message of something thrown, without running code that could throw again. */
export function messageOf(thrown: unknown): string {
  try {
    const message: unknown = (thrown as { message?: unknown } | null)?.message
    return typeof message === 'string' ? message : describe(thrown)
  } catch {
    return describe(thrown)
  }
}
