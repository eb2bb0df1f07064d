/**
 * Encoding a `Features.fromObject` row into a queue's buffers. The fast encoder is generated
 * once per queue from the profile's column names: one property read per monitored feature, by a
 * constant name, so V8 turns each into an inline-cached field load (about 2 ns for ten features,
 * against about 50 ns for a `for...in` loop whose keyed loads go megamorphic). Where code
 * generation is not allowed (`--disallow-code-generation-from-strings`) or the profile is very
 * wide, the generic `for...in` encoder does the same job.
 * @internal
 */
import type { RowLayout } from './row-layout'

/** Writes the row `row` of `values`/`present` from a plain object of feature values. */
export type ObjectEncoder = (
  object: Readonly<Record<string, unknown>>,
  values: Float64Array,
  present: Uint32Array,
  row: number,
) => void

/** Above this many columns the generated function would be too large to pay off. */
const MAX_GENERATED_COLUMNS = 256

/** The fastest encoder this runtime allows for `layout`. */
export function objectEncoder(layout: RowLayout): ObjectEncoder {
  return generatedObjectEncoder(layout) ?? genericObjectEncoder(layout)
}

/**
 * Reads each monitored name once. A property that is `undefined` (absent) leaves the column
 * absent; names that `Object.prototype` also has (`constructor`, `toString`, ...) are read only
 * when the object owns them. Returns `undefined` when code generation is unavailable.
 */
export function generatedObjectEncoder(layout: RowLayout): ObjectEncoder | undefined {
  if (layout.width > MAX_GENERATED_COLUMNS) return undefined
  const lines: string[] = [`const base = row * ${layout.width};`, 'let value;']
  for (let word = 0; word < layout.words; word++) lines.push(`let mask${word} = 0;`)
  layout.names.forEach((name, column) => {
    const key = JSON.stringify(name)
    const read = name in Object.prototype ? `(hasOwn(object, ${key}) ? object[${key}] : undefined)` : `object[${key}]`
    lines.push(
      `value = ${read};`,
      'if (value !== undefined) {',
      `  values[base + ${column}] = typeof value === 'number' ? value : layout.encodeOther(${column}, value);`,
      `  mask${column >>> 5} |= ${(1 << (column & 31)) >>> 0};`,
      '}',
    )
  })
  for (let word = 0; word < layout.words; word++) lines.push(`present[row * ${layout.words} + ${word}] = mask${word};`)
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the names are JSON string literals
    const make = new Function('layout', 'hasOwn', `return function encodeObject(object, values, present, row) {\n${lines.join('\n')}\n}`)
    return make(layout, Object.hasOwn) as ObjectEncoder
  } catch {
    return undefined
  }
}

/**
 * The same encoding with a `for...in` loop. It remembers the column of the name seen at each
 * position, since rows from one call site share their layout.
 */
export function genericObjectEncoder(layout: RowLayout): ObjectEncoder {
  const seenNames: (string | undefined)[] = []
  const seenColumns: number[] = []
  const { width, words } = layout
  return function encodeObject(object, values, present, row) {
    const base = row * width
    const first = row * words
    present.fill(0, first, first + words)
    let position = 0
    for (const name in object) {
      let column: number
      if (seenNames[position] === name) {
        column = seenColumns[position] as number
      } else {
        column = layout.columnOf(name)
        seenNames[position] = name
        seenColumns[position] = column
      }
      position++
      if (column < 0) continue
      const value = object[name]
      if (value === undefined) continue
      values[base + column] = typeof value === 'number' ? value : layout.encodeOther(column, value)
      present[first + (column >>> 5)]! |= 1 << (column & 31)
    }
  }
}
