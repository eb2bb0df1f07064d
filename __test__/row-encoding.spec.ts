// How rows are encoded on the JS side before they cross into native code: the generated
// `fromObject` encoder, its generic `for...in` fallback, and the `Feature`/`Metric` list encoder
// must all write the same columns and presence bits. A fake native queue captures the batches.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

import test from 'ava'

import { Feature, Features, Metric, Metrics } from '../ts/index'
import { featureValues } from '../ts/internal'
import { RowBuffer } from '../ts/item-buffer'
import { generatedObjectEncoder, genericObjectEncoder, objectEncoder, type ObjectEncoder } from '../ts/object-encoder'
import { RowLayout } from '../ts/row-layout'
import type { BindingQueue, BindingSlot } from '../ts/native'

/** What one encoded row holds: column -> value, for the columns whose presence bit is set. */
type Row = Record<number, number>

function encodeWith(encoder: ObjectEncoder, layout: RowLayout, object: Record<string, unknown>): Row {
  const values = new Float64Array(layout.width * 2).fill(-1)
  const present = new Uint32Array(layout.words * 2).fill(0xffffffff)
  encoder(object, values, present, 1) // row 1, so that offsets matter
  const row: Row = {}
  for (let column = 0; column < layout.width; column++) {
    if (present[layout.words + (column >>> 5)]! & (1 << (column & 31))) row[column] = values[layout.width + column]!
  }
  assertRowZeroUntouched(values, present, layout)
  return row
}

function assertRowZeroUntouched(values: Float64Array, present: Uint32Array, layout: RowLayout): void {
  for (let i = 0; i < layout.width; i++) if (values[i] !== -1) throw new Error(`row 0 column ${i} was written`)
  for (let i = 0; i < layout.words; i++) if (present[i] !== 0xffffffff) throw new Error(`row 0 word ${i} was written`)
}

const slots: BindingSlot[] = [
  { name: 'x' },
  { name: 'color', codes: [['red', 0], ['blue', 1], ['missing', 7]] },
  { name: 'shape', codes: [['round', 3]] },
  { name: 'big' },
  { name: 'constructor' },
  { name: 'toString' },
  { name: '__proto__' },
  { name: 'a "quoted"\nname\u2028' },
]
const layout = new RowLayout(slots)
const generated = generatedObjectEncoder(layout)

test('code generation is available here, so the generated encoder is the one in use', (t) => {
  t.is(typeof generated, 'function')
})

const cases: [string, Record<string, unknown>, Row][] = [
  ['numbers', { x: 1.5, big: 2 }, { 0: 1.5, 3: 2 }],
  ['strings through the feature map, else "missing", else NaN', { color: 'blue', shape: 'square' }, { 1: 1, 2: NaN }],
  ['an unknown string falls back to the code of "missing"', { color: 'green' }, { 1: 7 }],
  ['bigint as the nearest number', { big: 2n ** 53n + 1n }, { 3: 2 ** 53 }],
  ['NaN and infinities are data', { x: NaN, big: -Infinity }, { 0: NaN, 3: -Infinity }],
  ['unmonitored names are ignored, order does not matter', { other: 1, big: 4, x: 3 }, { 0: 3, 3: 4 }],
  ['an absent or undefined feature is absent, not NaN', { x: undefined }, {}],
  ['a value changed to another type is unusable', { x: true, big: {} }, { 0: NaN, 3: NaN }],
  ['names Object.prototype has are read only when owned', {}, {}],
  ['owned names that Object.prototype also has', { constructor: 5, toString: 6 }, { 4: 5, 5: 6 }],
  ['a name that needs quoting', { 'a "quoted"\nname\u2028': 9 }, { 7: 9 }],
]

for (const [name, object, expected] of cases) {
  test(`object encoders agree: ${name}`, (t) => {
    t.deepEqual(encodeWith(generated!, layout, object), expected, 'generated')
    t.deepEqual(encodeWith(genericObjectEncoder(layout), layout, object), expected, 'generic')
  })
}

test('an own __proto__ property (as JSON.parse makes) is read', (t) => {
  const object = JSON.parse('{"__proto__": 3, "x": 1}') as Record<string, unknown>
  t.deepEqual(encodeWith(generated!, layout, object), { 0: 1, 6: 3 })
  t.deepEqual(encodeWith(genericObjectEncoder(layout), layout, object), { 0: 1, 6: 3 })
})

test('the generic encoder keeps working when one call site changes its row layout', (t) => {
  const generic = genericObjectEncoder(layout)
  t.deepEqual(encodeWith(generic, layout, { x: 1, big: 2 }), { 0: 1, 3: 2 })
  t.deepEqual(encodeWith(generic, layout, { big: 3, x: 4 }), { 0: 4, 3: 3 })
  t.deepEqual(encodeWith(generic, layout, { big: 5 }), { 3: 5 })
})

test('wide rows set bits in later presence words, column 31 included', (t) => {
  const wide = new RowLayout(Array.from({ length: 70 }, (_, i) => ({ name: `f${i}` })))
  t.is(wide.words, 3)
  const object = { f0: 0, f31: 31, f32: 32, f63: 63, f69: 69 }
  const expected = { 0: 0, 31: 31, 32: 32, 63: 63, 69: 69 }
  t.deepEqual(encodeWith(generatedObjectEncoder(wide)!, wide, object), expected)
  t.deepEqual(encodeWith(genericObjectEncoder(wide), wide, object), expected)
})

test('very wide profiles use the generic encoder', (t) => {
  const huge = new RowLayout(Array.from({ length: 300 }, (_, i) => ({ name: `f${i}` })))
  t.is(generatedObjectEncoder(huge), undefined)
  t.deepEqual(encodeWith(objectEncoder(huge), huge, { f1: 1, f299: 299 }), { 1: 1, 299: 299 })
})

test('without code generation the generic encoder is used, with the same result', (t) => {
  const script = `
    const { RowLayout } = require('./ts/row-layout')
    const { generatedObjectEncoder, objectEncoder } = require('./ts/object-encoder')
    const layout = new RowLayout([{ name: 'x' }, { name: 'c', codes: [['red', 4]] }])
    const values = new Float64Array(2), present = new Uint32Array(1)
    objectEncoder(layout)({ c: 'red', x: 2 }, values, present, 0)
    console.log(JSON.stringify([generatedObjectEncoder(layout) === undefined, [...values], present[0]]))`
  const out = execFileSync(process.execPath, ['--import=tsx', '--disallow-code-generation-from-strings', '-e', script], {
    cwd: join(__dirname, '..'),
    encoding: 'utf8',
  })
  t.deepEqual(JSON.parse(out), [true, [2, 4], 3])
})

/** A native queue that keeps copies of the batches it is given. */
function fakeNative(): { queue: BindingQueue; batches: { values: number[]; present: number[]; rows: number }[] } {
  const batches: { values: number[]; present: number[]; rows: number }[] = []
  const queue = {
    pushRows(values: Float64Array, present: Uint32Array, rows: number) {
      batches.push({ values: [...values.subarray(0, rows * layout.width)], present: [...present.subarray(0, rows * layout.words)], rows })
      return rows
    },
  } as unknown as BindingQueue
  return { queue, batches }
}

test('a Feature list and the same row from fromObject encode identically', (t) => {
  const { queue, batches } = fakeNative()
  const buffer = new RowBuffer(queue, layout, 100, (error) => t.fail(String(error)))
  const object = { x: 2.5, color: 'red', shape: 'round', big: 10n, extra: 1 }
  buffer.addObject(Features.fromObject(object)[featureValues]!)
  buffer.addNamed(new Features(Object.entries(object).map(([name, value]) => new Feature(name, value))).features)
  buffer.drain()
  t.is(batches.length, 1)
  const [batch] = batches
  t.is(batch!.rows, 2)
  t.deepEqual(batch!.values.slice(0, 4), [2.5, 0, 3, 10])
  t.deepEqual(batch!.values.slice(0, 4), batch!.values.slice(layout.width, layout.width + 4))
  t.deepEqual(batch!.present, [0b1111, 0b1111])
})

test('a reused row slot does not keep the presence bits of the row before it', (t) => {
  const { queue, batches } = fakeNative()
  const buffer = new RowBuffer(queue, layout, 1, (error) => t.fail(String(error)))
  buffer.addNamed(new Metrics([new Metric('x', 1), new Metric('big', 2)]).metrics)
  buffer.addNamed(new Metrics([new Metric('big', 3)]).metrics)
  buffer.addObject({ x: 4 })
  t.deepEqual(
    batches.map((batch) => batch.present),
    [[0b1001], [0b1000], [0b0001]],
  )
})
