/**
 * Fuzzing the profile loader (fast-check): the eight fixture profiles (v0.9 and 0.25) with arbitrary JSON mutations
 * (fields dropped, types changed, huge or negative numbers, "NaN" as a string, deep nesting)
 * written to a file. `fromPath` either rejects with ProfileError/ConfigError, or gives a queue
 * that works: one item inserted, `shutdown()` resolves, the accounting balances with nothing
 * pending.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'
import fc from 'fast-check'

import { ConfigError, EvalRecord, Features, LLMRecord, Metrics, MockConfig, ProfileError, ScouterQueue, type Queue, type QueueStats } from '../ts/index'
import { runInChild } from './helpers/child'
import { profiles as v09Profiles, tempDir, uidProfiles } from './helpers/fixtures'

/** Cases per run; `FUZZ_RUNS` overrides it (more for a long hunt, fewer while editing). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
const profiles = { ...v09Profiles, spc25: uidProfiles.spc, psi25: uidProfiles.psi, custom25: uidProfiles.custom, genai: uidProfiles.genai }
type Kind = keyof typeof profiles
const fixtures = Object.fromEntries(Object.entries(profiles).map(([kind, path]) => [kind, JSON.parse(readFileSync(path, 'utf8'))])) as Record<Kind, Json>

/** Every path (list of keys) inside a JSON value, the root included. */
function pathsOf(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix)
  if (Array.isArray(value)) value.forEach((item, i) => pathsOf(item, [...prefix, i], out))
  else if (value !== null && typeof value === 'object') for (const key of Object.keys(value)) pathsOf(value[key]!, [...prefix, key], out)
  return out
}
const paths = Object.fromEntries(Object.entries(fixtures).map(([kind, json]) => [kind, pathsOf(json)])) as Record<Kind, (string | number)[][]>
/** The paths the loader reads, so that they are mutated more often than the ones it ignores. */
const USED = /^(config(\.(space|name|version|uid|drift_type|sample_size|sample_rate|sample_ratio|alert_config(\.features_to_monitor.*)?|feature_map.*))?|features.*|metrics.*|scouter_version)$/
const usedPaths = Object.fromEntries(
  Object.entries(paths).map(([kind, list]) => [kind, list.filter((path) => USED.test(path.join('.')))]),
) as Record<Kind, (string | number)[][]>

/** Nested `depth` times in arrays or objects: past serde_json's recursion limit when deep. */
function nested(depth: number, inObject: boolean, leaf: Json): Json {
  let value = leaf
  for (let i = 0; i < depth; i++) value = inObject ? { x: value } : [value]
  return value
}

const specialNumbers = [0, -0, -1, 1, 1.5, -1.5, 1e308, -1e308, 2 ** 63, 2 ** 64, -(2 ** 63), 2 ** 53 + 1, 4294967296, 5e-324, 1e12]
const specialValues: Json[] = ['NaN', 'inf', '-inf', 'Infinity', '', ' ', 'Spc', 'psi', 'CUSTOM', 'llm', 'GenAI', '0.9.0', '0.25.0', '0.14', 'Category', 'Numeric', '__proto__', 'constructor', null, true, false, [], {}, 'x'.repeat(100_000)]
const replacement: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...specialNumbers) },
  { weight: 3, arbitrary: fc.constantFrom(...specialValues) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 400 }), fc.boolean(), fc.jsonValue({ maxDepth: 0 })).map(([d, o, leaf]) => nested(d, o, leaf as Json)) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
)

type Mutation = { path: (string | number)[]; op: 'drop' | 'set' | 'wrap' | 'add'; value: Json; key: string }
const mutation = (kind: Kind): fc.Arbitrary<Mutation> =>
  fc.record({
    path: fc.oneof(fc.constantFrom(...usedPaths[kind]), fc.constantFrom(...paths[kind])),
    op: fc.constantFrom('drop', 'set', 'set', 'wrap', 'add'),
    value: replacement,
    key: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('feature_0', 'color', 'mae', 'missing', '__proto__')),
  }) as fc.Arbitrary<Mutation>

function apply(root: Json, { path, op, value, key }: Mutation): Json {
  if (path.length === 0) return op === 'drop' ? {} : op === 'wrap' ? [root] : op === 'set' ? value : root
  let parent: any = root
  for (const step of path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return root
    parent = parent[step]
  }
  const last = path[path.length - 1]!
  if (parent === null || typeof parent !== 'object' || !Object.hasOwn(parent, last)) return root
  if (op === 'drop') {
    if (Array.isArray(parent)) parent.splice(last as number, 1)
    else delete parent[last]
  } else if (op === 'set') {
    Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true })
  } else if (op === 'wrap') {
    parent[last] = [parent[last]]
  } else {
    const target = parent[last]
    if (Array.isArray(target)) target.push(value)
    else if (target !== null && typeof target === 'object') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return root
}

/**
 * The core allocates a batch buffer of `sample_size` (SPC, Custom) or `sample_rate` (LLM) items
 * when a queue starts, and a huge one aborts the process today: those two stay at most 10 000
 * here; the test of huge values is separate (skipped until the core allocates lazily).
 */
const CAPACITY_LIMIT = 10_000
function capCapacities(root: Json): Json {
  const config = root !== null && typeof root === 'object' && !Array.isArray(root) ? root.config : undefined
  if (config !== null && typeof config === 'object' && !Array.isArray(config)) {
    for (const field of ['sample_size', 'sample_rate']) {
      const n = config[field]
      if (typeof n === 'number' && n > CAPACITY_LIMIT) config[field] = CAPACITY_LIMIT
    }
  }
  return root
}

const mutated = fc
  .constantFrom<Kind>('spc', 'psi', 'custom', 'llm', 'spc25', 'psi25', 'custom25', 'genai')
  .chain((kind) => fc.tuple(fc.constant(kind), fc.array(mutation(kind), { minLength: 1, maxLength: 3 })))
  .map(([kind, mutations]) => {
    let json: Json = structuredClone(fixtures[kind])
    for (const m of mutations) json = apply(json, structuredClone(m))
    return JSON.stringify(capCapacities(json))
  })

const balanced = (s: QueueStats) => s.inserted === s.sampledOut + s.dropped + s.pending + s.published + s.failed

function insertOne(queue: Queue): void {
  switch (queue.kind) {
    case 'spc':
    case 'psi':
      return queue.insert(Features.fromObject({ feature_0: 1.5, feature_1: 2, color: 'red' }))
    case 'custom':
      return queue.insert(Metrics.fromObject({ mae: 1, mape: 2 }))
    case 'llm':
      return queue.insert(new LLMRecord({ context: { input: 'hi' } }))
    case 'genai':
      return queue.insert(new EvalRecord({ context: { input: 'hi' } }))
  }
}

/** Loads `text` as a profile: a ProfileError/ConfigError, or a queue that publishes and settles. */
async function check(file: string, text: string): Promise<'rejected' | 'worked'> {
  writeFileSync(file, text)
  let queues: ScouterQueue
  try {
    queues = await ScouterQueue.fromPath({ p: file }, new MockConfig(), { onError: () => {} })
  } catch (error) {
    if (error instanceof ProfileError || error instanceof ConfigError) return 'rejected'
    throw new Error(`fromPath rejected with ${String(error)}`, { cause: error })
  }
  const queue = queues.get('p')
  insertOne(queue)
  const stats = (await queues.shutdown()).p!
  if (!balanced(stats) || stats.pending !== 0 || stats.inserted !== 1) throw new Error(`bad accounting: ${JSON.stringify(stats)}`)
  return 'worked'
}

test('fuzz: mutated profiles are a ProfileError/ConfigError or a queue that works and settles', async (t) => {
  // Mutated Custom profiles often have upper-case metric names, each worth a process warning
  // (profiles.spec checks that one); thousands of them would bury the test output.
  process.removeAllListeners('warning')
  const file = join(tempDir(), 'fuzzed_profile.json')
  const outcomes = { rejected: 0, worked: 0 }
  const started = Date.now()
  await fc.assert(
    fc.asyncProperty(mutated, async (text) => {
      outcomes[await check(file, text)]++
    }),
    { numRuns: RUNS },
  )
  t.log(`${RUNS} cases in ${Date.now() - started} ms: ${outcomes.rejected} rejected, ${outcomes.worked} worked`)
  t.true(outcomes.worked > RUNS / 20, 'enough mutations still load, so the working path is exercised')
  t.true(outcomes.rejected > RUNS / 20)
})

// Before the buffers grew with use, `sample_size: 1e12` aborted the process while the queue
// started. Each value runs in its own child process, so that an abort fails this test instead of
// ending the test process.
test('huge sample_size / sample_rate (1e12, 2**53, 2**64) are a ProfileError or a working queue, never an abort', async (t) => {
  const cases: Array<[Kind, string, number]> = []
  for (const value of [1e12, 2 ** 32, 2 ** 53, 2 ** 64, 1e308]) {
    cases.push(['spc', 'sample_size', value], ['custom', 'sample_size', value], ['llm', 'sample_rate', value])
  }
  for (const [kind, field, value] of cases) {
    const json = structuredClone(fixtures[kind]) as any
    json.config[field] = value
    const file = join(tempDir(), `${kind}_${field}.json`)
    writeFileSync(file, JSON.stringify(json))
    const child = await runInChild(`
      let queues
      try {
        queues = await lib.ScouterQueue.fromPath({ p: ${JSON.stringify(file)} }, new lib.MockConfig())
      } catch (error) {
        console.log(error instanceof lib.ProfileError || error instanceof lib.ConfigError ? 'rejected' : 'other: ' + error)
        return
      }
      const queue = queues.get('p')
      queue.insert(queue.kind === 'llm' ? new lib.LLMRecord({ context: {} }) : queue.kind === 'custom' ? lib.Metrics.fromObject({ mae: 1 }) : lib.Features.fromObject({ feature_0: 1 }))
      const stats = (await queues.shutdown()).p
      console.log(stats.pending === 0 && stats.inserted === 1 ? 'worked' : 'bad stats ' + JSON.stringify(stats))
    `)
    t.is(child.code, 0, `${kind} ${field} ${value}: ${child.stderr.split('\n')[0]}`)
    t.regex(child.stdout.trim(), /^(rejected|worked)$/, `${kind} ${field} ${value}`)
  }
})
