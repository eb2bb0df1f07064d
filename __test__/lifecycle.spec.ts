import test from 'ava'

import {
  Feature,
  Features,
  LLMRecord,
  Metric,
  Metrics,
  MockConfig,
  QueueClosedError,
  ScouterQueue,
  ScouterQueueError,
  SpoolError,
  TransportError,
  UnknownAliasError,
  type QueueStats,
} from '../ts/index'
import { errorFromBinding } from '../ts/errors'
import { runInChild } from './helpers/child'
import { deferred, profiles, psiCounts, recordsOf } from './helpers/fixtures'

const balanced = (s: QueueStats) => s.inserted === s.sampledOut + s.dropped + s.pending + s.published + s.failed

test('after shutdown resolves, the transport holds exactly the records of every queue', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath(profiles, mock)
  for (let i = 0; i < 2345; i++) queues.get('psi').insert(Features.fromObject({ feature_0: (i % 10) + 0.5, color: 'green' }))
  for (let i = 0; i < 30; i++) queues.get('spc').insert(Features.fromObject({ feature_0: 2, feature_1: 4 }))
  for (let i = 0; i < 7; i++) queues.get('custom').insert(Metrics.fromObject({ mae: 3 }))
  for (let i = 0; i < 5; i++) queues.get('llm').insert(new LLMRecord({ context: { i } }))
  const stats = await queues.shutdown()

  const kinds = (kind: string) => mock.documents().filter((d) => kind in d.records[0]!)
  const psi = psiCounts(kinds('Psi'))
  t.is(psi['feature_0:1'], 235)
  t.is(psi['feature_0:10'], 234)
  t.is(psi['color:1'], 2345)
  t.is(kinds('Psi').length, 3)
  t.is(recordsOf(kinds('Spc')).length, 4, 'two batches (25 + 5) of two features')
  t.is(recordsOf(kinds('Custom')).length, 1)
  t.is(recordsOf(kinds('LLMDrift')).length, 5)
  for (const [alias, s] of Object.entries(stats)) {
    t.is(s.pending, 0, alias)
    t.is(s.failed, 0, alias)
    t.is(s.published, s.inserted, alias)
    t.true(balanced(s), alias)
  }
  t.is(stats.psi!.inserted, 2345)
  for (const doc of mock.documents()) {
    const kinds = new Set(doc.records.map((r) => Object.keys(r)[0]))
    t.is(kinds.size, 1, 'one kind per document')
  }
})

test('flush resolves only when what was inserted before it is confirmed, even through a slow transport', async (t) => {
  const mock = new MockConfig()
  mock.setLatencyMs(150)
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi, custom: profiles.custom }, mock)
  queues.get('psi').insert(Features.fromObject({ feature_0: 1 }))
  queues.get('custom').insert(Metrics.fromObject({ mape: 2 }))
  const started = Date.now()
  const stats = await queues.flush()
  t.true(Date.now() - started >= 140, 'flush waited for the confirmation')
  t.is(mock.documents().length, 2)
  t.like(stats.psi, { published: 1, pending: 0 })
  t.like(stats.custom, { published: 1, pending: 0 })
  await queues.shutdown()
})

test('the invariant holds at every moment while a slow transport publishes', async (t) => {
  const mock = new MockConfig()
  mock.setLatencyMs(20)
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock, { maxPendingItems: 3000 })
  const psi = queues.get('psi')
  let observations = 0
  let sawPending = false
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 400; i++) psi.insert(new Features([Feature.float('feature_0', i)]))
    const s = psi.stats()
    observations++
    sawPending ||= s.pending > 0
    t.true(balanced(s), JSON.stringify(s))
    await new Promise((r) => setTimeout(r, 3))
  }
  const final = (await queues.shutdown()).psi!
  t.true(sawPending, 'some items were observed in flight')
  t.is(observations, 20)
  t.true(balanced(final))
  t.is(final.pending, 0)
  t.is(final.inserted, 8000)
  t.is(final.published + final.dropped, 8000)
})

test('maxPendingItems bounds memory: past it, items are dropped and counted', async (t) => {
  const mock = new MockConfig()
  mock.setLatencyMs(300)
  const queues = await ScouterQueue.fromPath({ spc: profiles.spc }, mock, { maxPendingItems: 100 })
  const spc = queues.get('spc')
  for (let i = 0; i < 250; i++) spc.insert(Features.fromObject({ feature_0: 1 }))
  const during = spc.stats()
  t.like(during, { inserted: 250, dropped: 150, pending: 100 })
  const after = (await queues.shutdown()).spc!
  t.like(after, { inserted: 250, dropped: 150, pending: 0, published: 100 })
  t.is(recordsOf(mock.documents()).length, 4, '100 rows in batches of 25')
})

test('flush and shutdown settle when the transport cannot deliver: undelivered items are failed', async (t) => {
  const mock = new MockConfig()
  mock.setLatencyMs(60_000)
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock, { onError: (e) => errors.push(e) })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const started = Date.now()
  const stats = await queues.shutdown(200)
  t.true(Date.now() - started < 5000)
  t.like(stats.custom, { inserted: 2, failed: 2, pending: 0, publishFailures: 1 })
  t.true(balanced(stats.custom!))
  t.is(errors.length, 1)
  t.true(errors[0] instanceof TransportError)
  t.regex(errors[0]!.message, /deadline/)
})

test('retryable failures are retried; what still fails is counted and reported to onError', async (t) => {
  const mock = new MockConfig({ maxRetries: 2 })
  const reported = deferred<[ScouterQueueError, string]>()
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock, {
    onError: (error, alias) => reported.resolve([error, alias]),
  })
  mock.failNext(2)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  let stats = await queues.flush()
  t.like(stats.custom, { published: 1, failed: 0 })
  t.is(mock.attempts(), 3)

  mock.failNext(10)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  stats = await queues.flush()
  t.like(stats.custom, { published: 1, failed: 1, publishFailures: 1 })
  t.regex(stats.custom!.lastError!, /after 2 retries/)
  const [error, alias] = await reported.promise
  t.is(alias, 'custom')
  t.true(error instanceof TransportError)
  t.is(error.code, 'SCOUTER_TRANSPORT')
  mock.failNext(0)
  await queues.shutdown()
})

test('a permanent failure is not retried', async (t) => {
  const mock = new MockConfig({ maxRetries: 5 })
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock, { onError: () => {} })
  mock.failNext(1, { retryable: false })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.shutdown()
  t.is(mock.attempts(), 1)
  t.like(stats.custom, { failed: 1, published: 0 })
})

test('an onError that throws does not crash the process', async (t) => {
  const mock = new MockConfig({ maxRetries: 0 })
  const called = deferred<void>()
  const warnings: Error[] = []
  const listener = (w: Error) => warnings.push(w)
  process.on('warning', listener)
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock, {
    onError: () => {
      called.resolve()
      throw new Error('boom in user code')
    },
  })
  mock.failNext(1)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.shutdown()
  await called.promise
  await new Promise((r) => setImmediate(r))
  process.off('warning', listener)
  t.true(warnings.some((w) => /boom in user code/.test(w.message)))
})

test('an async onError that rejects does not end the process: one SCOUTER_ON_ERROR_THREW warning per rejection', async (t) => {
  // In a child process: an unhandled rejection would end it with exit code 1.
  const child = await runInChild(`
    const mock = new lib.MockConfig({ maxRetries: 0 })
    let reported
    const called = new Promise((resolve) => (reported = resolve))
    const queues = await lib.ScouterQueue.fromPath({ custom: fixtures.custom }, mock, {
      onError: async (error) => {
        reported()
        throw new Error('async boom in user code')
      },
    })
    mock.failNext(1)
    queues.get('custom').insert(lib.Metrics.fromObject({ mae: 1 }))
    await queues.shutdown()
    await called
    // The rejection is handled on a later turn of the event loop; let it run before the end.
    await new Promise((resolve) => setImmediate(resolve))
    console.log('done')
  `)
  t.is(child.code, 0, child.stderr)
  t.is(child.stdout.trim(), 'done')
  const warnings = child.stderr.split('\n').filter((line) => line.includes('[SCOUTER_ON_ERROR_THREW]'))
  t.is(warnings.length, 1, child.stderr)
  t.regex(warnings[0]!, /onError rejected: Error: async boom in user code/)
})

test('without onError, background failures become one process warning per queue and code', async (t) => {
  const mock = new MockConfig({ maxRetries: 0 })
  const warnings: Error[] = []
  const listener = (w: Error) => warnings.push(w)
  process.on('warning', listener)
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock)
  mock.failNext(3)
  for (let i = 0; i < 3; i++) {
    queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
    await queues.flush()
  }
  await queues.shutdown()
  await new Promise((r) => setImmediate(r))
  process.off('warning', listener)
  const ours = warnings.filter((w) => (w as { code?: string }).code === 'SCOUTER_TRANSPORT')
  t.is(ours.length, 1)
  t.is(queues.get('custom').stats().failed, 3)
})

test('shutdown is idempotent and insert afterwards throws QueueClosedError', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  queues.get('psi').insert(Features.fromObject({ feature_0: 1 }))
  const first = queues.shutdown()
  const second = queues.shutdown()
  t.is(first, second)
  await first
  t.is(mock.documents().length, 1)
  t.deepEqual(await queues.shutdown(), await first)
  const error = t.throws(() => queues.get('psi').insert(Features.fromObject({ feature_0: 1 })), {
    instanceOf: QueueClosedError,
  })
  t.is(error.code, 'SCOUTER_QUEUE_CLOSED')
  t.regex(error.message, /'psi'/)
  const stats = await queues.flush()
  t.like(stats.psi, { inserted: 1, published: 1 })
})

test('get() with an unknown alias lists the known ones', async (t) => {
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi, spc: profiles.spc }, new MockConfig())
  // @ts-expect-error an alias not given to fromPath is a compile error too
  const error = t.throws(() => queues.get('pis'), { instanceOf: UnknownAliasError })
  t.regex(error.message, /"pis".*"psi", "spc"/)
  t.deepEqual(error.aliases, ['psi', 'spc'])
  await queues.shutdown()
})

test('inserting the wrong kind throws TypeError at once and loses nothing else', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath(profiles, mock)
  queues.get('psi').insert(Features.fromObject({ feature_0: 1 }))
  t.throws(() => queues.get('psi').insert(new Metrics([new Metric('mae', 1)])), { instanceOf: TypeError, message: /PSI queue 'psi' takes Features/ })
  t.throws(() => queues.get('custom').insert(Features.fromObject({ mae: 1 })), { instanceOf: TypeError, message: /takes Metrics/ })
  t.throws(() => queues.get('llm').insert(Features.fromObject({ a: 1 })), { instanceOf: TypeError, message: /takes LLMRecord/ })
  t.throws(() => queues.get('spc').insert({ features: [] } as any), { instanceOf: TypeError })
  t.throws(() => queues.get('spc').insert(undefined as any), { instanceOf: TypeError })
  const stats = await queues.shutdown()
  t.like(stats.psi, { inserted: 1, published: 1 })
  t.is(stats.custom!.inserted + stats.llm!.inserted + stats.spc!.inserted, 0)
})

test('flush and shutdown check timeoutMs', async (t) => {
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, new MockConfig())
  await t.throwsAsync(queues.flush('1' as any), { instanceOf: TypeError })
  await t.throwsAsync(queues.flush(-1), { instanceOf: RangeError })
  await t.throwsAsync(queues.flush(NaN), { instanceOf: RangeError })
  t.throws(() => queues.shutdown(Infinity), { instanceOf: RangeError })
  await queues.shutdown()
})

test('transportConfig returns the config in use', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  t.is(queues.transportConfig, mock)
  await queues.shutdown()
})

test('errors from the native core are instances of their documented classes', (t) => {
  t.true(errorFromBinding({ code: 'SCOUTER_QUEUE_CLOSED', message: 'queue `psi` is closed' }) instanceof QueueClosedError)
  t.is((errorFromBinding({ code: 'SCOUTER_QUEUE_CLOSED', message: 'queue `psi` is closed' }) as QueueClosedError).alias, 'psi')
  t.is((errorFromBinding({ alias: 'llm', code: 'SCOUTER_QUEUE_CLOSED', message: 'closed' }) as QueueClosedError).alias, 'llm')
  t.true(errorFromBinding({ code: 'SCOUTER_SPOOL', message: 'x' }) instanceof SpoolError)
  const internal = errorFromBinding({ code: 'SCOUTER_INTERNAL', message: 'a panic' })
  t.is(internal.constructor, ScouterQueueError)
  t.is(internal.code, 'SCOUTER_INTERNAL')
})
