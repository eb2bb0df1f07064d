/**
 * Model-based property test of one queue over the Mock transport (fast-check `commands`):
 * random sequences of inserts, scripted transport failures and recoveries, latency changes,
 * `flush(timeoutMs?)`, `shutdown(timeoutMs?)` and `stats()`, over the PSI, Custom and LLM
 * fixture profiles, sometimes with a tiny `maxPendingItems` so that inserts are dropped.
 *
 * After every step: `inserted = sampledOut + dropped + pending + published + failed`, and the
 * model's exact `inserted` and its bounds on `dropped`. After every flush and shutdown: it
 * settled by its deadline (raced against a timer), `pending` is 0, and what the model predicts:
 * `published + failed` grew by what was accepted since the last flush and, when no injected
 * failure could have failed a document and no deadline pressed, `failed` did not grow at all.
 * After shutdown: `insert` throws `QueueClosedError`, flush and shutdown resolve at once.
 *
 * Each case opens its own queue and Mock transport (nothing but the fixture files is shared
 * between cases). The cases are split over LANES property runs that run at the same time (each
 * its own fast-check seed): a case spends nearly all its time waiting on timers (latency, retry
 * backoff), so lanes overlap those waits; see the numbers logged at the end. Measured on 2
 * cores: 10,000 cases in 12-14 s with 8 lanes, 93 s in one lane, of which about 45 s is retry
 * backoff (100 ms base, core/retry.rs, not settable from JS), 20 s Mock latency, 6 s pressing
 * deadlines and 9 s opening queues (0.8 ms each); the CPU is busy for about 18 s.
 *
 * Env: MODEL_RUNS (default 10000 cases in all), MODEL_LANES (default 8), MODEL_SEED.
 */
import test from 'ava'
import fc from 'fast-check'

import {
  Feature,
  Features,
  LLMRecord,
  Metrics,
  MockConfig,
  QueueClosedError,
  ScouterQueue,
  type Queue,
  type QueueStats,
  type ScouterQueueStats,
} from '../ts/index'
import { profiles } from './helpers/fixtures'

const RUNS = Number(process.env.MODEL_RUNS ?? 10_000)
const LANES = Number(process.env.MODEL_LANES ?? 8)
const SEED = Number(process.env.MODEL_SEED ?? Date.now() % 2 ** 31)
/** A flush or shutdown with at least this deadline is never pressed by it (see `worstCaseMs`). */
const NO_PRESSURE_MS = 5000
/** How late past its deadline a flush or shutdown may settle. */
const DEADLINE_MARGIN_MS = 500
/** The default `maxPendingItems`. */
const DEFAULT_MAX_PENDING = 100_000
/** Documents of one queue in flight at once (the core's `max_in_flight`). */
const MAX_IN_FLIGHT = 64

type Kind = 'psi' | 'custom' | 'llm'

interface CaseConfig {
  kind: Kind
  maxRetries: number
  maxPendingItems: number | undefined
  flushIntervalMs: number | undefined
  latencyMs: number
}

/** What the model knows. "Zero point": the moment a flush or shutdown resolved (pending 0). */
interface Model {
  readonly cfg: CaseConfig
  readonly maxPending: number
  closed: boolean
  /** Items inserted (exact). */
  inserted: number
  /** Items inserted since the last zero point. */
  sinceZero: number
  /** Counters read at the last zero point. */
  atZero: { dropped: number; published: number; failed: number; sampledOut: number }
  /** Failing attempts the mock may still have had scripted at the last zero point. */
  budgetAtZero: number
  budgetAtZeroRetryable: boolean
  /** Failing attempts scripted since the last zero point (an upper bound), and whether all retryable. */
  scriptedSinceZero: number
  allRetryableSinceZero: boolean
  /** The mock's current script: count, kind, and `attempts()` read right after it was set. */
  script: { count: number; retryable: boolean; attemptsAfterSet: number } | null
  /** The highest latency in effect at any time during the case. */
  maxLatencyMs: number
  /** A flush or shutdown with a pressing deadline happened (it may abort confirmed-late documents). */
  pressed: boolean
}

interface Real {
  queues: ScouterQueue
  queue: Queue
  mock: MockConfig
  shutdown: Promise<ScouterQueueStats> | undefined
}

/** Measurements across every case of the file. */
const measured = {
  cases: 0,
  commands: 0,
  maxOvershootMs: 0,
  maxUnpressedMs: 0,
  drops: 0,
  failures: 0,
  openMs: 0,
  /** Time spent waiting on flushes and shutdowns: with no failure scripted, with one scripted, pressed by a deadline. */
  waitCleanMs: 0,
  waitScriptedMs: 0,
  waitPressedMs: 0,
  /** How often each kind of check had something to check. */
  covered: { drops: 0, failed: 0, invisibleRetries: 0, insertAfterShutdown: 0, pressed: 0, psi: 0, custom: 0, llm: 0 },
}

const balanced = (s: QueueStats) => s.inserted === s.sampledOut + s.dropped + s.pending + s.published + s.failed

function fail(message: string): never {
  throw new Error(message)
}

function expect(condition: boolean, message: () => string): void {
  if (!condition) fail(message())
}

/** The longest a flush without deadline pressure can take: waves of documents, each with every retry. */
function worstCaseMs(model: Model, items: number): number {
  const { cfg } = model
  const docsPerItem = cfg.kind === 'llm' ? 1 : 1 / (cfg.kind === 'custom' ? 25 : 1000)
  const documents = Math.ceil(items * docsPerItem) + 1
  const waves = Math.ceil(documents / MAX_IN_FLIGHT)
  // Backoff before retry i is at most 100 * 2^(i-1) ms (core/retry.rs), no Retry-After here.
  const backoff = 100 * (2 ** cfg.maxRetries - 1)
  return waves * ((cfg.maxRetries + 1) * model.maxLatencyMs + backoff)
}

/** Resolves with `promise`, or throws if it has not settled within `ms`. */
async function settlesWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<{ value: T; elapsed: number }> {
  const begin = performance.now()
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  try {
    const value = await Promise.race([promise, late])
    return { value, elapsed: performance.now() - begin }
  } finally {
    clearTimeout(timer)
  }
}

/** The checks after every step. */
function checkStep(model: Model, real: Real, step: string): QueueStats {
  measured.commands += 1
  const s = real.queue.stats()
  const show = () => `${step}: ${JSON.stringify({ ...s, lastError: undefined, lastPublishAt: undefined })}`
  expect(balanced(s), () => `not balanced after ${show()}`)
  expect(s.inserted === model.inserted, () => `inserted ${s.inserted}, model says ${model.inserted}, after ${show()}`)
  expect(s.sampledOut === 0, () => `sampledOut with sample_rate 1 after ${show()}`)
  const dropped = s.dropped - model.atZero.dropped
  const mostDropped = Math.max(0, model.sinceZero - model.maxPending)
  expect(
    dropped >= 0 && dropped <= mostDropped,
    () => `dropped ${dropped} since the last flush, at most ${mostDropped} possible (${model.sinceZero} inserted, bound ${model.maxPending}), after ${show()}`,
  )
  expect(s.pending <= model.maxPending, () => `pending above maxPendingItems after ${show()}`)
  if (model.closed) expect(s.pending === 0, () => `pending after shutdown: ${show()}`)
  if (model.cfg.kind === 'llm') {
    expect(s.records === s.published, () => `LLM: one record per published item, after ${show()}`)
  }
  return s
}

/**
 * After a flush or shutdown resolved: nothing pending, the model's prediction, then a new zero
 * point.
 */
function zeroPoint(model: Model, real: Real, step: string, pressed: boolean): void {
  const s = checkStep(model, real, step)
  const show = () => `${step}: ${JSON.stringify({ ...s, lastError: undefined, lastPublishAt: undefined })}`
  expect(s.pending === 0, () => `pending after ${show()}`)
  const accepted = model.sinceZero - (s.dropped - model.atZero.dropped)
  const predicted = model.atZero.published + model.atZero.failed + accepted
  expect(
    s.published + s.failed === predicted,
    () => `published + failed = ${s.published + s.failed}, model predicts ${predicted} after ${show()}`,
  )
  const scripted = model.budgetAtZero + model.scriptedSinceZero
  const retryable = (model.budgetAtZero === 0 || model.budgetAtZeroRetryable) && model.allRetryableSinceZero
  const cannotFail = scripted === 0 || (retryable && scripted <= model.cfg.maxRetries)
  if (s.dropped > model.atZero.dropped) measured.covered.drops += 1
  if (s.failed > model.atZero.failed) measured.covered.failed += 1
  if (pressed) measured.covered.pressed += 1
  if (!pressed && cannotFail && scripted > 0 && accepted > 0) measured.covered.invisibleRetries += 1
  if (!pressed && cannotFail) {
    expect(
      s.failed === model.atZero.failed && s.published === model.atZero.published + accepted,
      () => `failed grew by ${s.failed - model.atZero.failed} though at most ${scripted} ${retryable ? 'retryable' : ''} failing attempts were scripted (maxRetries ${model.cfg.maxRetries}) after ${show()}`,
    )
  }
  // What the mock holds: every confirmed document once; exactly them unless a deadline cut in.
  const documents = real.mock.documents()
  expect(documents.length >= s.documents, () => `the mock holds ${documents.length} documents, ${s.documents} confirmed, after ${show()}`)
  if (!model.pressed) {
    expect(documents.length === s.documents, () => `the mock holds ${documents.length} documents, ${s.documents} confirmed, after ${show()}`)
    const records = documents.reduce((n, d) => n + d.records.length, 0)
    expect(records === s.records, () => `the mock holds ${records} records, ${s.records} confirmed, after ${show()}`)
  }
  const key = { psi: 'Psi', custom: 'Custom', llm: 'LLMDrift' }[model.cfg.kind]
  for (const document of documents) {
    expect(document.records.length > 0 && document.records.every((r) => key in r), () => `a document of the wrong kind: ${JSON.stringify(document).slice(0, 200)}`)
  }
  if (model.cfg.kind === 'llm') {
    const uids = documents.flatMap((d) => d.records.map((r) => ('LLMDrift' in r ? r.LLMDrift.record.uid : '')))
    expect(new Set(uids).size === uids.length, () => `an LLM record was published twice after ${step}`)
  }

  model.sinceZero = 0
  model.atZero = { dropped: s.dropped, published: s.published, failed: s.failed, sampledOut: s.sampledOut }
  const script = model.script
  model.budgetAtZero = script === null ? 0 : Math.max(0, script.count - (real.mock.attempts() - script.attemptsAfterSet))
  model.budgetAtZeroRetryable = script?.retryable ?? true
  model.scriptedSinceZero = 0
  model.allRetryableSinceZero = true
  measured.drops = Math.max(measured.drops, s.dropped)
  measured.failures = Math.max(measured.failures, s.failed)
}

// ---------------------------------------------------------------------------------------------
// Commands

type Cmd = fc.AsyncCommand<Model, Real, false>

class Insert implements Cmd {
  constructor(
    readonly count: number,
    readonly values: number[],
  ) {}
  check(model: Readonly<Model>): boolean {
    // LLM records are one document each: keep those cases short.
    return model.cfg.kind !== 'llm' || this.count <= 40
  }
  async run(model: Model, real: Real): Promise<void> {
    if (model.closed) {
      const item = itemFor(model.cfg.kind, 0, this.values)
      let thrown: unknown
      try {
        real.queue.insert(item)
      } catch (error) {
        thrown = error
      }
      expect(thrown instanceof QueueClosedError, () => `insert after shutdown threw ${String(thrown)}`)
      measured.covered.insertAfterShutdown += 1
      checkStep(model, real, this.toString())
      return
    }
    for (let i = 0; i < this.count; i++) real.queue.insert(itemFor(model.cfg.kind, i, this.values))
    model.inserted += this.count
    model.sinceZero += this.count
    checkStep(model, real, this.toString())
  }
  toString(): string {
    return `insert(${this.count})`
  }
}

/** The i-th item of an insert: values cycle through the command's (NaN, infinities and unknown categories included). */
function itemFor(kind: Kind, i: number, values: number[]): Features | Metrics | LLMRecord {
  const v = values[i % values.length] ?? 0
  switch (kind) {
    case 'psi': {
      const colors = ['red', 'green', 'blue', 'missing', 'purple']
      const color = colors[i % colors.length]!
      return i % 3 === 0
        ? new Features([Feature.float('feature_0', v), Feature.string('color', color)])
        : Features.fromObject(i % 7 === 0 ? { color } : { feature_0: v, color })
    }
    case 'custom':
      return Metrics.fromObject(i % 5 === 4 ? {} : i % 2 === 0 ? { mae: v, mape: v * 2 } : { mae: v, other: 1 })
    case 'llm':
      return new LLMRecord({ context: { i, v: Number.isFinite(v) ? v : null }, prompt: i % 2 === 0 ? { p: i } : undefined })
  }
}

class Fails implements Cmd {
  constructor(
    readonly count: number,
    readonly retryable: boolean,
  ) {}
  check(): boolean {
    return true
  }
  async run(model: Model, real: Real): Promise<void> {
    real.mock.failNext(this.count, { retryable: this.retryable })
    model.script = { count: this.count, retryable: this.retryable, attemptsAfterSet: real.mock.attempts() }
    model.scriptedSinceZero += this.count
    model.allRetryableSinceZero &&= this.retryable
    checkStep(model, real, this.toString())
  }
  toString(): string {
    return `fails(${this.count}, ${this.retryable ? 'retryable' : 'permanent'})`
  }
}

class Recovers implements Cmd {
  check(): boolean {
    return true
  }
  async run(model: Model, real: Real): Promise<void> {
    real.mock.failNext(0)
    model.script = null
    checkStep(model, real, this.toString())
  }
  toString(): string {
    return 'recovers'
  }
}

class Latency implements Cmd {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true
  }
  async run(model: Model, real: Real): Promise<void> {
    real.mock.setLatencyMs(this.ms)
    model.maxLatencyMs = Math.max(model.maxLatencyMs, this.ms)
    checkStep(model, real, this.toString())
  }
  toString(): string {
    return `latency(${this.ms})`
  }
}

class Stats implements Cmd {
  constructor(readonly pauseMs: number) {}
  check(): boolean {
    return true
  }
  async run(model: Model, real: Real): Promise<void> {
    if (this.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, this.pauseMs))
    checkStep(model, real, this.toString())
    const all = real.queues.stats()[model.cfg.kind]
    expect(all !== undefined && balanced(all) && all.inserted === model.inserted, () => 'queues.stats() disagrees')
  }
  toString(): string {
    return `stats(pause ${this.pauseMs} ms)`
  }
}

/** The deadline a flush or shutdown is raced against, and whether it presses on the queue. */
function deadlineOf(model: Model, timeoutMs: number | undefined): { raceMs: number; pressed: boolean } {
  const unpressed = worstCaseMs(model, model.sinceZero) + DEADLINE_MARGIN_MS
  if (timeoutMs === undefined || timeoutMs >= NO_PRESSURE_MS) return { raceMs: Math.min(unpressed, timeoutMs ?? Infinity) + DEADLINE_MARGIN_MS, pressed: false }
  return { raceMs: Math.min(timeoutMs, unpressed) + DEADLINE_MARGIN_MS, pressed: true }
}

function noteTiming(model: Model, elapsed: number, timeoutMs: number | undefined, pressed: boolean): void {
  if (pressed && timeoutMs !== undefined) measured.maxOvershootMs = Math.max(measured.maxOvershootMs, elapsed - timeoutMs)
  if (!pressed) measured.maxUnpressedMs = Math.max(measured.maxUnpressedMs, elapsed)
  if (pressed) measured.waitPressedMs += elapsed
  else if (model.budgetAtZero + model.scriptedSinceZero > 0) measured.waitScriptedMs += elapsed
  else measured.waitCleanMs += elapsed
}

class Flush implements Cmd {
  constructor(readonly timeoutMs: number | undefined) {}
  check(): boolean {
    return true
  }
  async run(model: Model, real: Real): Promise<void> {
    if (model.closed) {
      const before = real.queue.stats()
      const flushed = real.queues.flush(this.timeoutMs)
      expect(flushed === real.shutdown, () => 'a flush after shutdown is not the shutdown (README: it returns the shutdown\'s own promise)')
      const { value } = await settlesWithin(flushed, DEADLINE_MARGIN_MS, `${this} after shutdown`)
      const after = value[model.cfg.kind]!
      expect(JSON.stringify({ ...after, lastPublishAt: null }) === JSON.stringify({ ...before, lastPublishAt: null }), () => 'a flush after shutdown changed the counters')
      checkStep(model, real, this.toString())
      return
    }
    const { raceMs, pressed } = deadlineOf(model, this.timeoutMs)
    const { value, elapsed } = await settlesWithin(real.queues.flush(this.timeoutMs), raceMs, this.toString())
    noteTiming(model, elapsed, this.timeoutMs, pressed)
    const returned = value[model.cfg.kind]!
    expect(returned.pending === 0 && balanced(returned), () => `flush resolved with ${JSON.stringify(returned)}`)
    model.pressed ||= pressed
    zeroPoint(model, real, this.toString(), pressed)
  }
  toString(): string {
    return `flush(${this.timeoutMs ?? ''})`
  }
}

class Shutdown implements Cmd {
  constructor(readonly timeoutMs: number | undefined) {}
  check(): boolean {
    return true
  }
  async run(model: Model, real: Real): Promise<void> {
    if (model.closed) {
      const again = real.queues.shutdown(this.timeoutMs)
      expect(again === real.shutdown, () => 'a second shutdown returned another promise')
      await settlesWithin(again, DEADLINE_MARGIN_MS, `${this} again`)
      checkStep(model, real, this.toString())
      return
    }
    const { raceMs, pressed } = deadlineOf(model, this.timeoutMs)
    real.shutdown = real.queues.shutdown(this.timeoutMs)
    model.closed = true
    const { value, elapsed } = await settlesWithin(real.shutdown, raceMs, this.toString())
    noteTiming(model, elapsed, this.timeoutMs, pressed)
    const returned = value[model.cfg.kind]!
    expect(returned.pending === 0 && balanced(returned), () => `shutdown resolved with ${JSON.stringify(returned)}`)
    model.pressed ||= pressed
    zeroPoint(model, real, this.toString(), pressed)
  }
  toString(): string {
    return `shutdown(${this.timeoutMs ?? ''})`
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const latencyArb = fc.constantFrom(0, 0, 0, 1, 2, 5, 10, 20, 50)
/** No deadline, a pressing one (0-60 ms), or one that cannot press. */
const timeoutArb = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 60 }), weight: 2 },
  { arbitrary: fc.constant(NO_PRESSURE_MS), weight: 1 },
)
const valueArb = fc.oneof(
  { arbitrary: fc.double({ min: -20, max: 20, noNaN: true }), weight: 8 },
  { arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0), weight: 1 },
)

const commandArbs: Array<fc.Arbitrary<Cmd>> = [
  fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 20 }), weight: 8 },
        { arbitrary: fc.integer({ min: 21, max: 60 }), weight: 2 },
        { arbitrary: fc.integer({ min: 500, max: 1100 }), weight: 1 },
      ),
      fc.array(valueArb, { minLength: 1, maxLength: 6 }),
    )
    .map(([count, values]) => new Insert(count, values)),
  fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.constantFrom(1, 2), weight: 3 },
        { arbitrary: fc.integer({ min: 3, max: 6 }), weight: 1 },
      ),
      fc.boolean(),
    )
    .map(([count, retryable]) => new Fails(count, retryable)),
  fc.constant(null).map(() => new Recovers()),
  latencyArb.map((ms) => new Latency(ms)),
  timeoutArb.map((ms) => new Flush(ms)),
  timeoutArb.map((ms) => new Shutdown(ms)),
  fc.constantFrom(0, 0, 1, 5).map((ms) => new Stats(ms)),
]

const configArb: fc.Arbitrary<CaseConfig> = fc.record({
  kind: fc.constantFrom<Kind>('psi', 'custom', 'llm'),
  maxRetries: fc.constantFrom(0, 1, 2),
  maxPendingItems: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined, freq: 2 }),
  flushIntervalMs: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined, freq: 3 }),
  latencyMs: latencyArb,
})

async function runCase(cfg: CaseConfig, commands: Iterable<Cmd>): Promise<void> {
  const mock = new MockConfig({ maxRetries: cfg.maxRetries })
  mock.setLatencyMs(cfg.latencyMs)
  const opening = performance.now()
  const queues = await ScouterQueue.fromPath({ [cfg.kind]: profiles[cfg.kind] }, mock, {
    maxPendingItems: cfg.maxPendingItems,
    flushIntervalMs: cfg.flushIntervalMs,
    onError: () => {},
  })
  measured.openMs += performance.now() - opening
  const real: Real = { queues, queue: queues.get(cfg.kind), mock, shutdown: undefined }
  const model: Model = {
    cfg,
    maxPending: cfg.maxPendingItems ?? DEFAULT_MAX_PENDING,
    closed: false,
    inserted: 0,
    sinceZero: 0,
    atZero: { dropped: 0, published: 0, failed: 0, sampledOut: 0 },
    budgetAtZero: 0,
    budgetAtZeroRetryable: true,
    scriptedSinceZero: 0,
    allRetryableSinceZero: true,
    script: null,
    maxLatencyMs: cfg.latencyMs,
    pressed: false,
  }
  measured.cases += 1
  measured.covered[cfg.kind] += 1
  try {
    await fc.asyncModelRun(() => ({ model, real }), commands)
    // Every case ends with a shutdown without a deadline: the final accounting.
    await new Shutdown(undefined).run(model, real)
    const final = real.queue.stats()
    expect(final.pending === 0 && final.published + final.failed + final.dropped === final.inserted, () => `final ${JSON.stringify(final)}`)
  } finally {
    // A failed case must not leave its queue running (shutdown is idempotent).
    mock.setLatencyMs(0)
    mock.failNext(0)
    await settlesWithin(queues.shutdown(0), 5000, 'cleanup shutdown').catch(() => undefined)
  }
}

const property = fc.asyncProperty(configArb, fc.commands(commandArbs, { maxCommands: 8 }), runCase)

const perLane = Math.ceil(RUNS / LANES)
const lanesDone: Array<Promise<void>> = []
let begin = 0

for (let lane = 0; lane < LANES; lane++) {
  const numRuns = Math.min(perLane, RUNS - lane * perLane)
  if (numRuns <= 0) break
  test(`model: lane ${lane + 1}/${LANES}, ${numRuns} cases (seed ${SEED + lane})`, async (t) => {
    t.timeout(600_000)
    begin ||= performance.now()
    const done = fc.assert(property, { numRuns, seed: SEED + lane, endOnFailure: false, verbose: 1 })
    lanesDone.push(done.catch(() => undefined))
    await done
    t.pass()
  })
}

test.after.always('model: measurements', async () => {
  await Promise.all(lanesDone)
  const seconds = (performance.now() - begin) / 1000
  console.log(
    `model.spec: ${measured.cases} cases run (incl. shrinking), ${measured.commands} checked steps, ${seconds.toFixed(1)} s over ${LANES} lanes; ` +
      `queue open ${(measured.openMs / Math.max(1, measured.cases)).toFixed(2)} ms/case; ` +
      `max overshoot past a pressing deadline ${measured.maxOvershootMs.toFixed(1)} ms; longest unpressed flush/shutdown ${measured.maxUnpressedMs.toFixed(0)} ms; ` +
      `max dropped in a case ${measured.drops}, max failed ${measured.failures}; ` +
      `flushes/shutdowns that saw: drops ${measured.covered.drops}, failures ${measured.covered.failed}, retries hidden by maxRetries ${measured.covered.invisibleRetries}, a pressing deadline ${measured.covered.pressed}; ` +
      `inserts after shutdown ${measured.covered.insertAfterShutdown}; cases psi/custom/llm ${measured.covered.psi}/${measured.covered.custom}/${measured.covered.llm}; ` +
      `waiting on flush/shutdown: ${(measured.waitCleanMs / 1000).toFixed(1)} s with no failure scripted, ${(measured.waitScriptedMs / 1000).toFixed(1)} s with failures scripted, ${(measured.waitPressedMs / 1000).toFixed(1)} s under a deadline; base seed ${SEED}`,
  )
})
