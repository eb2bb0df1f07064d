/**
 * What `flush()` and `shutdown()` promise together: the default deadline (`flushTimeoutMs`), a
 * flush once a shutdown has started (it is the shutdown), a shutdown refused at validation that
 * can still be made afterwards, the byte bound (`maxPendingBytes`) and `pendingBytes`.
 */
import test from 'ava'

import { FileConfig, Features, LLMRecord, Metrics, MockConfig, ScouterQueue, type QueueStats, type ScouterQueueError } from '../ts/index'
import { profiles, tempDir } from './helpers/fixtures'
import { join } from 'node:path'

const balanced = (s: QueueStats) => s.inserted === s.sampledOut + s.dropped + s.pending + s.published + s.failed

/** `promise`, or 'late' once `ms` have passed: a deadline that makes a hang fail the test, not stall it. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | 'late'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, ms, 'late')))
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

test('flush() and shutdown() without timeoutMs are bounded by the flushTimeoutMs option', async (t) => {
  const mock = new MockConfig()
  mock.setLatencyMs(60_000)
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock, { flushTimeoutMs: 200, onError: () => {} })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const flushed = await within(5000, queues.flush())
  if (flushed === 'late') {
    t.fail('flush() waited past flushTimeoutMs')
    await queues.shutdown(0)
    return
  }
  t.like(flushed.custom, { failed: 1, pending: 0 })
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const shut = await within(5000, queues.shutdown())
  t.not(shut, 'late', 'shutdown() waited past flushTimeoutMs')
  if (shut !== 'late') t.like(shut.custom, { inserted: 2, failed: 2, pending: 0 })
})

test('flush() after shutdown() returns the shutdown promise itself, and reports no error', async (t) => {
  const errors: ScouterQueueError[] = []
  const path = join(tempDir(), 'records.jsonl')
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, new FileConfig({ path }), { onError: (error) => errors.push(error) })
  queues.get('psi').insert(Features.fromObject({ feature_0: 1 }))
  const shutdown = queues.shutdown()
  t.is(queues.flush(), shutdown)
  t.is(queues.flush(100), shutdown)
  await shutdown
  const after = queues.flush()
  t.is(after, shutdown)
  t.like((await after).psi, { inserted: 1, published: 1, pending: 0 })
  t.deepEqual(errors, [])
})

test('a flush() during a shutdown resolves only when the shutdown has settled everything', async (t) => {
  const mock = new MockConfig()
  mock.setLatencyMs(200)
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  queues.get('psi').insert(Features.fromObject({ feature_0: 1 }))
  void queues.shutdown()
  const stats = await queues.flush()
  t.like(stats.psi, { inserted: 1, published: 1, pending: 0 })
  t.is(mock.documents().length, 1)
})

test('a shutdown() refused at validation does not claim the shutdown: a later one still works', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  queues.get('psi').insert(Features.fromObject({ feature_0: 1 }))
  t.throws(() => queues.shutdown(1e300), { instanceOf: RangeError })
  t.throws(() => queues.shutdown(2 ** 31), { instanceOf: RangeError })
  t.throws(() => queues.shutdown('5' as any), { instanceOf: TypeError })
  // Still open: the item inserted before is published, and more can be inserted.
  queues.get('psi').insert(Features.fromObject({ feature_0: 2 }))
  const stats = await queues.shutdown(2_147_483_647)
  t.like(stats.psi, { inserted: 2, published: 2, pending: 0 })
})

test('maxPendingBytes bounds the bytes waiting, beside maxPendingItems', async (t) => {
  const mock = new MockConfig()
  mock.setLatencyMs(300)
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock, { maxPendingBytes: 100_000 })
  const big = 'x'.repeat(10_000)
  for (let i = 0; i < 100; i++) queues.get('llm').insert(new LLMRecord({ context: { i, big } }))
  const during = queues.get('llm').stats()
  t.true(during.dropped > 0, `about 1 MB of records against a 100 kB bound: ${JSON.stringify(during)}`)
  t.true(during.pendingBytes <= 100_000, `pendingBytes ${during.pendingBytes}`)
  const after = (await queues.shutdown()).llm!
  t.true(balanced(after))
  t.is(after.pending, 0)
  t.is(after.published + after.dropped, 100)
})

test('stats report pendingBytes: above 0 while items are pending, 0 after shutdown', async (t) => {
  const mock = new MockConfig()
  mock.setLatencyMs(200)
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock)
  queues.get('llm').insert(new LLMRecord({ context: { text: 'y'.repeat(1000) } }))
  const during = queues.get('llm').stats()
  t.is(typeof during.pendingBytes, 'number')
  t.true(during.pending === 1 && during.pendingBytes >= 1000, JSON.stringify(during))
  const after = (await queues.shutdown()).llm!
  t.is(after.pendingBytes, 0)
})
