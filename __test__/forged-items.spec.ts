/**
 * Items that were not built by the builders are refused at `insert` with a TypeError, before they
 * can reach the N-API boundary, where one bad item would fail its whole batch. And a batch that
 * still fails to cross is counted (`recordLost`), never silently lost.
 */
import test from 'ava'

import native = require('../ts/native')
import { EvalRecord, Feature, Features, LLMRecord, Metric, Metrics, MockConfig, ScouterQueue, ScouterQueueError, type QueueStats } from '../ts/index'
import { RowBuffer } from '../ts/item-buffer'
import { RowLayout } from '../ts/row-layout'
import { profiles, recordsOf, uidProfiles } from './helpers/fixtures'

const balanced = (s: QueueStats) => s.inserted === s.sampledOut + s.dropped + s.pending + s.published + s.failed

/**
 * Makes the next call of a `BindingQueue` method throw, as a batch that cannot cross N-API does.
 * Patches the prototype, so only serial tests use it.
 */
function failNextCall(method: 'pushRows' | 'pushLlm'): void {
  const proto = native.BindingQueue.prototype as unknown as Record<string, unknown>
  const original = proto[method]
  proto[method] = function () {
    proto[method] = original
    throw Object.assign(new Error('Failed to convert JavaScript value `Undefined` into rust type `String`'), { code: 'StringExpected' })
  }
}

test.serial('a batch of LLM records that fails to cross is counted as inserted and failed, and reported', async (t) => {
  const mock = new MockConfig()
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock, { onError: (error) => errors.push(error) })
  failNextCall('pushLlm')
  for (let i = 0; i < 3; i++) queues.get('llm').insert(new LLMRecord({ context: { i } }))
  const lost = queues.get('llm').stats()
  t.like(lost, { inserted: 3, failed: 3, pending: 0 }, 'needs BindingQueue.recordLost in the addon')
  t.regex(lost.lastError ?? '', /3 item\(s\) could not be handed to the native queue: Failed to convert/)
  t.is(errors.length, 1)
  t.regex(errors[0]!.message, /Failed to convert/)
  t.true(errors[0] instanceof ScouterQueueError, 'a ScouterQueueError, as everything the package reports')
  t.is(errors[0]!.code, 'SCOUTER_INTERNAL')
  t.regex(String((errors[0]!.cause as Error).message), /Failed to convert/, 'the thrown error is the cause')
  queues.get('llm').insert(new LLMRecord({ context: { after: true } }))
  const stats = (await queues.shutdown()).llm!
  t.like(stats, { inserted: 4, failed: 3, published: 1, pending: 0 })
  t.true(balanced(stats))
})

test.serial('a batch of rows that fails to cross is counted as inserted and failed, and reported', async (t) => {
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, new MockConfig(), { onError: (error) => errors.push(error) })
  failNextCall('pushRows')
  for (let i = 0; i < 5; i++) queues.get('psi').insert(Features.fromObject({ feature_0: i }))
  const stats = (await queues.shutdown()).psi!
  t.like(stats, { inserted: 5, failed: 5, pending: 0 }, 'needs BindingQueue.recordLost in the addon')
  t.true(balanced(stats))
  t.is(errors.length, 1)
})

test('a forged LLMRecord is refused with a TypeError and the valid records of its batch are all published', async (t) => {
  const mock = new MockConfig()
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock, { onError: (error) => errors.push(error) })
  const llm = queues.get('llm')
  for (let i = 0; i < 10; i++) llm.insert(new LLMRecord({ context: { i } }))
  const forged = Object.create(LLMRecord.prototype) as LLMRecord
  t.true(forged instanceof LLMRecord, 'instanceof alone cannot tell')
  t.throws(() => llm.insert(forged), { instanceOf: TypeError, message: /takes LLMRecord, got an instance of LLMRecord not built by its constructor/ })
  const stats = (await queues.shutdown()).llm!
  t.like(stats, { inserted: 10, published: 10, failed: 0, pending: 0 })
  t.is(recordsOf(mock.documents()).length, 10)
  t.deepEqual(errors, [])
})

test('forged Features and Metrics are refused at insert', async (t) => {
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi, custom: profiles.custom }, new MockConfig())
  t.throws(() => queues.get('psi').insert(Object.create(Features.prototype)), { instanceOf: TypeError, message: /takes Features/ })
  t.throws(() => queues.get('custom').insert(Object.create(Metrics.prototype)), { instanceOf: TypeError, message: /takes Metrics/ })
  const stats = await queues.shutdown()
  t.is(stats.psi!.inserted + stats.custom!.inserted, 0)
})

test('forged Feature and Metric elements are refused when the list is built', (t) => {
  const feature = Object.create(Feature.prototype) as Feature
  const metric = Object.assign(Object.create(Metric.prototype), { name: 'mae', value: 1 }) as Metric
  t.throws(() => new Features([Feature.float('a', 1), feature]), { instanceOf: TypeError, message: /element 1 is not a Feature/ })
  t.throws(() => new Metrics([metric]), { instanceOf: TypeError, message: /element 0 is not a Metric/ })
})

test('a list changed after it was built is read defensively when inserted: the changed element is unusable, the rest is published', async (t) => {
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi, custom: profiles.custom }, new MockConfig())
  const features = [Feature.float('feature_0', 1)]
  const row = new Features(features)
  features.push(Object.create(Feature.prototype))
  queues.get('psi').insert(row)
  const metrics = [new Metric('mae', 1), new Metric('mape', 2)]
  const set = new Metrics(metrics)
  metrics[0] = { name: 'mae', value: 'not a number' } as unknown as Metric
  queues.get('custom').insert(set)
  const stats = await queues.shutdown()
  // The forged Feature has no name the profile knows: ignored. The changed Metric's value is NaN.
  t.like(stats.psi, { inserted: 1, published: 1, failed: 0, droppedValues: 0, records: 10 })
  t.like(stats.custom, { inserted: 1, published: 1, failed: 0, droppedValues: 1 })
})

test('the buffer hands recordLost the number of items that did not cross, with the reason, then reports', (t) => {
  const calls: unknown[][] = []
  const failures: unknown[] = []
  const fake = {
    pushRows() {
      throw new Error('cannot cross')
    },
    recordLost(...args: unknown[]) {
      calls.push(args)
    },
  } as unknown as native.BindingQueue
  const buffer = new RowBuffer(fake, new RowLayout([{ name: 'x' }]), 100, (error) => failures.push(error))
  for (let i = 0; i < 7; i++) buffer.addObject({ x: i })
  buffer.drain()
  t.deepEqual(calls, [[7, '7 item(s) could not be handed to the native queue: cannot cross']])
  t.is(failures.length, 1)
  buffer.drain()
  t.is(calls.length, 1, 'nothing is counted twice')
})

test.serial('malformed eval records crossing N-API directly are refused with an error, and nothing is counted', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ genai: uidProfiles.genai }, mock)
  // Catch the queue's native handle on its first hand-over.
  const proto = native.BindingQueue.prototype
  const original = proto.pushEval
  let nativeQueue: native.BindingQueue | undefined
  proto.pushEval = function (this: native.BindingQueue, fields: string[]) {
    // oxlint-disable-next-line typescript/no-this-alias -- capturing the receiver is the point
    nativeQueue = this
    return original.call(this, fields)
  }
  try {
    queues.get('genai').insert(new EvalRecord({ context: { ok: true } }))
    queues.get('genai').stats()
  } finally {
    proto.pushEval = original
  }
  const [uid, createdAt] = native.recordIdentity(0) as [string, string]
  const good = [uid, createdAt, '{}', 'id', 'session', '', '["a=b"]']
  const bad: string[][] = [
    good.slice(0, 6),
    [...good, ...good.slice(0, 3)],
    [uid, createdAt, '{', 'id', 'session', '', '[]'],
    [uid, createdAt, '{}', 'id', 'session', '', '{"a":1}'],
    [uid, createdAt, '{}', 'id', 'session', '', '[1]'],
    [uid, createdAt, '{}', 'id', 'session', '', 'not json'],
  ]
  for (const fields of bad) t.throws(() => nativeQueue!.pushEval(fields), undefined, JSON.stringify(fields))
  t.throws(() => nativeQueue!.pushEval([1, 2, 3, 4, 5, 6, 7] as never))
  // LLM fields into a GenAI queue: the wrong shape for its kind.
  t.throws(() => nativeQueue!.pushLlm([uid, createdAt, '{}', '']), { message: /wrong shape/ })
  t.is(nativeQueue!.pushEval(good), 1, 'a well-formed crossing still works')
  const stats = (await queues.shutdown()).genai!
  t.like(stats, { inserted: 2, published: 2, failed: 0, pending: 0 })
  t.is(recordsOf(mock.documents()).length, 2)
})
