/**
 * Argument checks shared by the builders. A programming mistake (a wrong type, an empty name)
 * throws at once, where the bad value was written, rather than deep inside a background task.
 * @internal
 */

/** Throws a `TypeError` unless `name` is a non-empty string. */
export function checkName(what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`${what} name must be a non-empty string, got ${describe(name)}`)
  }
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
    case 'bigint':
      return `the bigint ${value}n`
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value)
    case 'object':
      return `an instance of ${(value as object).constructor?.name ?? 'Object'}`
    default:
      return `a ${typeof value}`
  }
}

/** Whether `value` is a plain object (`{}` or `Object.create(null)`), not an array or class. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
