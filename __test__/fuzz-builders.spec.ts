/**
 * Fuzzing the builders with arbitrary values (fast-check): bigints, symbols, proxies whose traps
 * throw, getters that throw, cyclic objects, huge strings, forged instances. Every call either
 * returns a valid object or throws a TypeError or RangeError, never anything else, so a caller
 * who handles those two has handled every mistake.
 */
import test, { type ExecutionContext } from 'ava'
import fc from 'fast-check'

import { EvalRecord, Feature, Features, LLMRecord, Metric, Metrics } from '../ts/index'
import { isFeature, isFeatures } from '../ts/builders/feature'
import { isMetric, isMetrics } from '../ts/builders/metric'
import { isLLMRecord } from '../ts/builders/llm-record'

/** Cases per run; `FUZZ_RUNS` overrides it (more for a long hunt, fewer while editing). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)

const boom = (): never => {
  throw new Error('thrown by user code')
}
/** fast-check's own probes of a generated value, which the proxies must let through. */
const probes = new Set<PropertyKey>([fc.cloneMethod, fc.toStringMethod, fc.asyncToStringMethod])
const throwingTraps: ProxyHandler<object> = {
  get: (target, key) => (probes.has(key) ? undefined : boom()),
  has: (target, key) => (probes.has(key) ? false : boom()),
  ownKeys: boom,
  getOwnPropertyDescriptor: boom,
  getPrototypeOf: boom,
  apply: boom,
  construct: boom,
}
const throwOnRead: ProxyHandler<object> = { get: (target, key) => (probes.has(key) ? undefined : boom()) }
/**
 * A revoked proxy throws on any operation, fast-check's probes included, so it travels through
 * fast-check as this marker and is swapped in when a builder is called.
 */
const REVOKED = Symbol('revoked proxy')
const revocable = Proxy.revocable({}, {})
revocable.revoke()
const resolve = (value: unknown): unknown => (value === REVOKED ? revocable.proxy : value)
const cyclic: Record<string, unknown> = { a: 1 }
cyclic.self = cyclic
const cyclicArray: unknown[] = [1]
cyclicArray.push(cyclicArray)
const huge = 'x'.repeat(2 ** 22)

/** Values chosen to break code that trusts its argument. Built once; fast-check picks among them. */
const nasties: unknown[] = [
  Symbol('s'),
  Symbol.iterator,
  new Proxy({}, throwingTraps),
  new Proxy([], throwingTraps),
  new Proxy(function () {}, throwingTraps),
  new Proxy({ a: 1 }, throwOnRead), // passes as a plain object, then throws on every read
  new Proxy([Feature.float('a', 1)], throwOnRead),
  REVOKED,
  Object.defineProperty({}, 'x', { get: boom, enumerable: true }),
  Object.defineProperty(Object.create(null), 'context', { get: boom, enumerable: true }),
  Object.defineProperty([Feature.float('a', 1)], 0, { get: boom }),
  { toString: boom, valueOf: boom, [Symbol.toPrimitive]: boom },
  { toJSON: boom },
  { toJSON: () => [1, 2] },
  { toJSON: () => 'a string' },
  Object.defineProperty({}, 'constructor', { get: boom }),
  cyclic,
  cyclicArray,
  { nested: cyclic },
  huge,
  { [huge.slice(0, 1000)]: 1 },
  JSON.parse('{"__proto__": 1, "constructor": "x", "toString": 2}'),
  Object.create(Feature.prototype),
  Object.create(Features.prototype),
  Object.create(Metric.prototype),
  Object.create(Metrics.prototype),
  Object.create(LLMRecord.prototype),
  Object.assign(Object.create(Feature.prototype), { name: 'a', value: 1, kind: 'float' }),
  Feature.float('a', 1),
  new Metric('a', 1),
  [Feature.float('a', 1), Feature.int('a', 2)],
  [new Metric('MAE', 1), new Metric('mae', 2)],
  { MAE: 1, mae: 2 },
  2n ** 63n,
  -(2n ** 63n) - 1n,
  2n ** 64n,
  2 ** 63,
  -0,
  Number.MAX_VALUE,
  '',
  function named() {},
  class Klass {},
  new Date(NaN),
  /regex/,
  new Map([['a', 1]]),
  Object.freeze({ a: 1 }),
]

const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  maxDepth: 3,
})
const nasty = fc.constantFrom(...nasties)
const scalar = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.bigInt(), fc.constantFrom(NaN, Infinity, -Infinity))
const value = fc.oneof({ weight: 4, arbitrary: anything }, { weight: 3, arbitrary: nasty }, { weight: 3, arbitrary: scalar })
const name = fc.oneof({ weight: 3, arbitrary: fc.string() }, { weight: 1, arbitrary: value })
const validFeature = fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), scalar).map(([n, v]) => {
  try {
    return new Feature(n, v as never)
  } catch {
    return Feature.float(n, 0)
  }
})
const validMetric = fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.double()).map(([n, v]) => new Metric(n, v))
const featureList = fc.oneof(value, fc.array(fc.oneof({ weight: 4, arbitrary: validFeature }, { weight: 1, arbitrary: value }), { maxLength: 40 }))
const metricList = fc.oneof(value, fc.array(fc.oneof({ weight: 4, arbitrary: validMetric }, { weight: 1, arbitrary: value }), { maxLength: 40 }))
const record = (values: fc.Arbitrary<unknown>) => fc.oneof(value, fc.dictionary(fc.string({ maxLength: 4 }), values, { maxKeys: 40 }), fc.object())
const llmInit = fc.oneof(value, fc.record({ context: fc.oneof(value, record(value), fc.jsonValue()), prompt: value }, { requiredKeys: [] }))
const hex32 = fc.stringMatching(/^[0-9a-fA-F]{32}$/)
const evalInit = fc.oneof(
  value,
  fc.record(
    { context: fc.oneof(value, record(value), fc.jsonValue()), id: fc.oneof(value, fc.string()), sessionId: fc.oneof(value, fc.string()), traceId: fc.oneof(value, hex32, fc.string()) },
    { requiredKeys: [] },
  ),
)

/** Passes when `build` returned an object `valid` accepts, or threw a TypeError or RangeError. */
function outcome(build: () => unknown, valid: (built: any) => string | true): true {
  let built: unknown
  try {
    built = build()
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      if (typeof error.message !== 'string') throw new Error('an error without a message')
      return true
    }
    throw new Error(`threw something other than TypeError/RangeError: ${String(error)}`, { cause: error })
  }
  const verdict = valid(built)
  if (verdict !== true) throw new Error(`returned an invalid object: ${verdict}`)
  return true
}

const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n

function validFeatureObject(f: Feature): string | true {
  if (!isFeature(f)) return 'not branded'
  if (typeof f.name !== 'string' || f.name === '') return 'bad name'
  switch (f.kind) {
    case 'int':
      if (typeof f.value === 'bigint') return f.value >= I64_MIN && f.value <= I64_MAX ? true : 'bigint out of range'
      return typeof f.value === 'number' && Number.isInteger(f.value) && f.value >= -(2 ** 63) && f.value < 2 ** 63 ? true : 'bad int'
    case 'float':
      return typeof f.value === 'number' ? true : 'bad float'
    case 'string':
      return typeof f.value === 'string' ? true : 'bad string'
    default:
      return `bad kind ${String(f.kind)}`
  }
}

function unique(names: string[]): boolean {
  return new Set(names).size === names.length
}

function validFeatures(row: Features): string | true {
  if (!isFeatures(row)) return 'not branded'
  const list = row.features
  if (!Array.isArray(list)) return 'features is not an array'
  for (const f of list) {
    const verdict = validFeatureObject(f)
    if (verdict !== true) return verdict
  }
  return unique(list.map((f) => f.name)) ? true : 'repeated name'
}

function validMetricObject(m: Metric): string | true {
  if (!isMetric(m)) return 'not branded'
  if (typeof m.name !== 'string' || m.name === '' || m.name !== m.name.toLowerCase()) return 'bad name'
  return typeof m.value === 'number' ? true : 'bad value'
}

function validMetrics(set: Metrics): string | true {
  if (!isMetrics(set)) return 'not branded'
  for (const m of set.metrics) {
    const verdict = validMetricObject(m)
    if (verdict !== true) return verdict
  }
  return unique(set.metrics.map((m) => m.name)) ? true : 'repeated name'
}

function validRecord(r: LLMRecord): string | true {
  if (!isLLMRecord(r)) return 'not branded'
  const context: unknown = JSON.parse(r.contextJson)
  if (context === null || typeof context !== 'object' || Array.isArray(context)) return `context JSON is not an object: ${r.contextJson.slice(0, 40)}`
  if (r.promptJson !== '') JSON.parse(r.promptJson)
  return /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(r.uid) ? true : 'bad uid'
}

function validEval(r: EvalRecord): string | true {
  if (!(r instanceof EvalRecord)) return 'not an EvalRecord'
  if (r.traceId !== null && !/^[0-9a-fA-F]{32}$/.test(r.traceId)) return `bad trace id ${r.traceId}`
  if (typeof r.id !== 'string' || typeof r.sessionId !== 'string' || r.sessionId === '') return 'bad ids'
  if (!r.tags.every((tag) => typeof tag === 'string' && /^[^=]+=/.test(tag))) return 'bad tag'
  return /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(r.uid) ? true : 'bad uid'
}

function fuzz<A extends unknown[]>(t: ExecutionContext, args: { [K in keyof A]: fc.Arbitrary<A[K]> }, build: (...a: A) => unknown, valid: (built: any) => string | true) {
  const started = Date.now()
  fc.assert(
    fc.property(...(args as unknown as [fc.Arbitrary<unknown>]), (...a: unknown[]) => outcome(() => build(...(a.map(resolve) as A)), valid)),
    { numRuns: RUNS },
  )
  t.log(`${RUNS} cases in ${Date.now() - started} ms`)
  t.pass()
}

test('fuzz: Feature.int / float / string / categorical and new Feature', (t) => {
  const make = [Feature.int, Feature.float, Feature.string, Feature.categorical, (n: unknown, v: unknown) => new Feature(n as string, v as never)]
  fuzz(t, [fc.nat(make.length - 1), name, value] as const, (which: number, n: unknown, v: unknown) => (make[which] as (n: unknown, v: unknown) => Feature)(n, v), validFeatureObject)
})

test('fuzz: new Features', (t) => {
  fuzz(t, [featureList] as const, (list: unknown) => new Features(list as Feature[]), validFeatures)
})

test('fuzz: Features.fromObject', (t) => {
  fuzz(t, [record(fc.oneof(scalar, value))] as const, (object: unknown) => Features.fromObject(object as never), validFeatures)
})

test('fuzz: new Metric', (t) => {
  fuzz(t, [name, value] as const, (n: unknown, v: unknown) => new Metric(n as string, v as number), validMetricObject)
})

test('fuzz: new Metrics', (t) => {
  fuzz(t, [metricList] as const, (list: unknown) => new Metrics(list as Metric[]), validMetrics)
})

test('fuzz: Metrics.fromObject', (t) => {
  fuzz(t, [record(fc.oneof(fc.double(), value))] as const, (object: unknown) => Metrics.fromObject(object as never), validMetrics)
})

test('fuzz: new EvalRecord and addTag', (t) => {
  fuzz(
    t,
    [evalInit, fc.array(fc.tuple(fc.oneof(value, fc.string()), fc.oneof(value, fc.string())), { maxLength: 3 })] as const,
    (init: unknown, tags: Array<[unknown, unknown]>) => {
      const built = new EvalRecord(init as never)
      for (const [key, tagValue] of tags) built.addTag(key as never, tagValue as never)
      return built
    },
    validEval,
  )
})

test('fuzz: new LLMRecord', (t) => {
  fuzz(t, [llmInit] as const, (init: unknown) => new LLMRecord(init as never), validRecord)
})
