import test from 'ava'

import { Feature, Features, LLMRecord, Metric, Metrics } from '../ts/index'

test('Feature factories set kind and keep the value', (t) => {
  t.like(Feature.int('age', 42), { name: 'age', value: 42, kind: 'int' })
  t.like(Feature.int('big', 2n ** 62n), { value: 2n ** 62n, kind: 'int' })
  t.like(Feature.float('f', 1.5), { value: 1.5, kind: 'float' })
  t.like(Feature.string('color', 'red'), { value: 'red', kind: 'string' })
  t.like(Feature.categorical('color', 'red'), { kind: 'string' })
})

test('new Feature infers the kind from the value', (t) => {
  t.is(new Feature('a', 3).kind, 'int')
  t.is(new Feature('a', 3n).kind, 'int')
  t.is(new Feature('a', 3.5).kind, 'float')
  t.is(new Feature('a', NaN).kind, 'float')
  t.is(new Feature('a', 'x').kind, 'string')
})

test('NaN and infinities are data, not mistakes', (t) => {
  t.notThrows(() => Feature.float('f', NaN))
  t.notThrows(() => Feature.float('f', Infinity))
  t.notThrows(() => new Metric('m', -Infinity))
})

test('Feature builders throw TypeError on programming mistakes', (t) => {
  const cases: Array<[string, () => unknown]> = [
    ['empty name', () => Feature.float('', 1)],
    ['name not a string', () => Feature.float(3 as any, 1)],
    ['float of a string', () => Feature.float('f', '1' as any)],
    ['int of a fraction', () => Feature.int('i', 1.5)],
    ['int of NaN', () => Feature.int('i', NaN)],
    ['int of a string', () => Feature.int('i', '1' as any)],
    ['string of a number', () => Feature.string('s', 1 as any)],
    ['inferred from a boolean', () => new Feature('b', true as any)],
    ['inferred from null', () => new Feature('b', null as any)],
    ['inferred from an object', () => new Feature('b', {} as any)],
  ]
  for (const [what, build] of cases) {
    t.throws(build, { instanceOf: TypeError }, what)
  }
})

test('64-bit range is checked with RangeError', (t) => {
  t.throws(() => Feature.int('i', 2n ** 63n), { instanceOf: RangeError })
  t.throws(() => new Feature('i', -(2n ** 63n) - 1n), { instanceOf: RangeError })
  t.throws(() => Feature.int('i', 2 ** 64), { instanceOf: RangeError })
  t.notThrows(() => Feature.int('i', -(2n ** 63n)))
})

test('Features takes an array of Feature', (t) => {
  const row = new Features([Feature.float('a', 1)])
  t.is(row.features.length, 1)
  t.throws(() => new Features('a' as any), { instanceOf: TypeError })
  t.throws(() => new Features([{ name: 'a', value: 1 }] as any), { instanceOf: TypeError, message: /element 0/ })
})

test('Features.fromObject infers each feature', (t) => {
  const row = Features.fromObject({ f: 1.5, n: 2, big: 3n, color: 'red' })
  t.deepEqual(
    row.features.map((f) => [f.name, f.kind]),
    [
      ['f', 'float'],
      ['n', 'int'],
      ['big', 'int'],
      ['color', 'string'],
    ],
  )
  t.throws(() => Features.fromObject([1] as any), { instanceOf: TypeError })
  t.throws(() => Features.fromObject(new Map() as any), { instanceOf: TypeError })
  t.throws(() => Features.fromObject({ ok: 1, bad: true } as any), { instanceOf: TypeError, message: /bad/ })
})

test('Metric lower-cases its name and needs a number', (t) => {
  t.like(new Metric('MAE', 1.2), { name: 'mae', value: 1.2 })
  t.throws(() => new Metric('mae', '1' as any), { instanceOf: TypeError })
  t.throws(() => new Metric('mae', 1n as any), { instanceOf: TypeError })
  t.throws(() => new Metric('', 1), { instanceOf: TypeError })
  t.deepEqual(
    Metrics.fromObject({ MAE: 1, mape: 2 }).metrics.map((m) => m.name),
    ['mae', 'mape'],
  )
  t.throws(() => new Metrics([new Metric('a', 1), 'b' as any]), { instanceOf: TypeError, message: /element 1/ })
  t.throws(() => Metrics.fromObject(null as any), { instanceOf: TypeError })
})

test('LLMRecord stamps a UUIDv7 uid and created_at from the same instant', (t) => {
  const before = Date.now()
  const record = new LLMRecord({ context: { input: 'hi', response: 'hello' } })
  const after = Date.now()
  t.regex(record.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.regex(record.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)
  const uidMs = parseInt(record.uid.replace(/-/g, '').slice(0, 12), 16)
  t.is(uidMs, Date.parse(record.createdAt))
  t.true(uidMs >= before && uidMs <= after)
  t.is(record.prompt, null)
  t.not(new LLMRecord({ context: {} }).uid, record.uid)
})

test('LLMRecord context must be a plain JSON-serializable object', (t) => {
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle
  const cases: Array<[string, () => unknown]> = [
    ['array context', () => new LLMRecord({ context: [1, 2] as any })],
    ['string context', () => new LLMRecord({ context: 'hi' as any })],
    ['null context', () => new LLMRecord({ context: null as any })],
    ['missing context', () => new LLMRecord({} as any)],
    ['class instance context', () => new LLMRecord({ context: new Date() as any })],
    ['cyclic context', () => new LLMRecord({ context: cycle as never })],
    ['bigint in context', () => new LLMRecord({ context: { n: 1n } as never })],
    ['bigint prompt', () => new LLMRecord({ context: {}, prompt: 1n as never })],
    ['not an object at all', () => new LLMRecord(undefined as any)],
  ]
  for (const [what, build] of cases) {
    t.throws(build, { instanceOf: TypeError }, what)
  }
  t.notThrows(() => new LLMRecord({ context: Object.create(null) }))
})

test('LLMRecord serializes when built, so later changes do not leak in', (t) => {
  const context = { input: 'hi' }
  const record = new LLMRecord({ context, prompt: ['a', { b: 1 }] })
  context.input = 'changed'
  t.is(record.contextJson, '{"input":"hi"}')
  t.is(record.promptJson, '["a",{"b":1}]')
})

test('a metric name given twice (after lower-casing) is a TypeError naming it', (t) => {
  t.throws(() => new Metrics([new Metric('MAE', 1), new Metric('mape', 2), new Metric('mae', 3)]), {
    instanceOf: TypeError,
    message: /metric "mae" is given more than once/,
  })
  t.throws(() => Metrics.fromObject({ MAE: 1, mae: 2 }), { instanceOf: TypeError, message: /metric "mae" is given more than once.*"MAE", "mae"/ })
  const many = Array.from({ length: 40 }, (_, i) => new Metric(`m${i}`, i))
  t.notThrows(() => new Metrics(many))
  t.throws(() => new Metrics([...many, new Metric('M39', 0)]), { instanceOf: TypeError, message: /"m39"/ })
})

test('a feature name given twice is a TypeError naming it', (t) => {
  t.throws(() => new Features([Feature.float('a', 1), Feature.int('b', 2), Feature.string('a', 'x')]), {
    instanceOf: TypeError,
    message: /feature "a" is given more than once/,
  })
  const many = Array.from({ length: 40 }, (_, i) => Feature.float(`f${i}`, i))
  t.notThrows(() => new Features(many))
  t.throws(() => new Features([...many, Feature.float('f7', 0)]), { instanceOf: TypeError, message: /"f7"/ })
  // Names that differ only in case are different features (feature names are not lower-cased).
  t.notThrows(() => new Features([Feature.float('A', 1), Feature.float('a', 1)]))
})

test('Features.fromObject refuses an empty feature name, as new Feature does', (t) => {
  t.throws(() => Features.fromObject({ '': 1 }), { instanceOf: TypeError, message: /non-empty/ })
})

test('builders throw only TypeError or RangeError, also when a getter or proxy throws something else', (t) => {
  const boom = () => {
    throw new Error('boom')
  }
  const getter = Object.defineProperty({}, 'x', { get: boom, enumerable: true })
  const trap = new Proxy({}, { get: boom, ownKeys: boom, getPrototypeOf: boom, getOwnPropertyDescriptor: boom })
  const arrayTrap = new Proxy([Feature.float('a', 1)], { get: boom })
  const cases: Array<[string, () => unknown]> = [
    ['fromObject getter', () => Features.fromObject(getter as any)],
    ['fromObject proxy', () => Features.fromObject(trap as any)],
    ['Metrics.fromObject getter', () => Metrics.fromObject(getter as any)],
    ['Features proxy array', () => new Features(arrayTrap)],
    ['Metrics proxy array', () => new Metrics(arrayTrap as any)],
    ['LLMRecord init getter', () => new LLMRecord(Object.defineProperty({}, 'context', { get: boom, enumerable: true }) as any)],
    ['LLMRecord proxy init', () => new LLMRecord(trap as any)],
    ['LLMRecord toJSON throws', () => new LLMRecord({ context: { toJSON: boom } as never })],
    ['describe of a proxy', () => new Feature('a', trap as any)],
  ]
  for (const [what, build] of cases) {
    const error = t.throws(build, undefined, what)
    t.true(error instanceof TypeError || error instanceof RangeError, `${what}: ${String(error)}`)
  }
})

test('found by fuzzing: an integer number beyond 64 bits is inferred float; a context whose toJSON is not an object is refused', (t) => {
  t.is(new Feature('a', 2 ** 63).kind, 'float')
  t.is(new Feature('a', -(2 ** 63)).kind, 'int')
  t.is(new Feature('a', 1e300).kind, 'float')
  t.is(Features.fromObject({ a: 1e300 }).features[0]!.kind, 'float')
  t.throws(() => new LLMRecord({ context: { toJSON: () => [1, 2] } as never }), { instanceOf: TypeError, message: /JSON object/ })
  t.throws(() => new LLMRecord({ context: { toJSON: () => 'text' } as never }), { instanceOf: TypeError, message: /JSON object/ })
  t.is(new LLMRecord({ context: { toJSON: () => ({ ok: 1 }) } as never }).contextJson, '{"ok":1}')
})
