/**
 * Argument checks shared by the builders. A programming mistake (a wrong type, an empty name)
 * throws at once, where the bad value was written, rather than deep inside a background task.
 * Builders only ever throw `TypeError` or `RangeError`: whatever user code they run while reading
 * their arguments (a getter, a proxy trap, a `toJSON`) that throws something else is rethrown as a
 * `TypeError` with the original as its `cause`.
 * @internal
 */

/** Throws a `TypeError` unless `name` is a non-empty string. */
export function checkName(what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`${what} name must be a non-empty string, got ${describe(name)}`)
  }
}

/**
 * A short description of a value for error messages. Never throws and runs no user code beyond
 * reading `constructor.name` (a proxy or a getter that throws there gives `an object`).
 */
export function describe(value: unknown): string {
  try {
    if (value === null) return 'null'
    switch (typeof value) {
      case 'string':
        return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
      case 'bigint':
        return `the bigint ${value}n`
      case 'number':
      case 'boolean':
      case 'undefined':
        return String(value)
      case 'object': {
        if (Array.isArray(value)) return 'an array'
        const name: unknown = (value as object).constructor?.name
        return `an instance of ${typeof name === 'string' && name !== '' ? name : 'Object'}`
      }
      default:
        return `a ${typeof value}`
    }
  } catch {
    return 'an object'
  }
}

/**
 * Whether `value` is a plain object (`{}` or `Object.create(null)`), not an array or class.
 * Never throws: a proxy whose `getPrototypeOf` trap throws is not a plain object.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  try {
    const proto: unknown = Object.getPrototypeOf(value)
    return proto === Object.prototype || proto === null
  } catch {
    return false
  }
}

/**
 * What a builder throws when reading its argument threw: `TypeError` and `RangeError` as they
 * are, anything else (a getter's or a proxy's own error) wrapped in a `TypeError`, so that callers
 * only ever have to expect those two.
 */
export function builderError(what: string, thrown: unknown): TypeError | RangeError {
  try {
    if (thrown instanceof TypeError || thrown instanceof RangeError) return thrown
  } catch {
    // A thrown proxy whose prototype cannot be read: wrapped below.
  }
  return new TypeError(`${what}: reading the argument threw`, { cause: thrown })
}

/**
 * The first name that appears twice in `items`, or `undefined`. Rows are short, so pairs are
 * compared without allocating; long lists go through a `Set`.
 */
export function repeatedName(items: readonly { readonly name: string }[]): string | undefined {
  const count = items.length
  if (count <= 32) {
    for (let i = 1; i < count; i++) {
      const name = (items[i] as { name: string }).name
      for (let j = 0; j < i; j++) if ((items[j] as { name: string }).name === name) return name
    }
    return undefined
  }
  const seen = new Set<string>()
  for (let i = 0; i < count; i++) {
    const name = (items[i] as { name: string }).name
    if (seen.has(name)) return name
    seen.add(name)
  }
  return undefined
}

/**
 * Remembers `items`' names in `last` (reusing its slots) after `repeatedName` found none twice.
 * The builders keep one such list: rows built by the same code carry the same names in the same
 * order, so a list whose names are, one by one, those remembered is free of repeats too, which
 * costs one comparison per item instead of one per pair (45 for ten features) and no allocation.
 */
export function rememberNames(last: string[], items: readonly { readonly name: string }[]): void {
  const count = items.length
  if (count > 64) return
  last.length = count
  for (let i = 0; i < count; i++) last[i] = (items[i] as { name: string }).name
}
