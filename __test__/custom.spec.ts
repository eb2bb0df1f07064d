import test from 'ava'

import { Metric, Metrics, MockConfig, ScouterQueue, type CustomServerRecord } from '../ts/index'
import { profiles, recordsOf } from './helpers/fixtures'

function customRecords(mock: MockConfig): CustomServerRecord[] {
  return recordsOf(mock.documents()).map((r) => {
    if (!('Custom' in r)) throw new Error('not Custom')
    return r.Custom
  })
}

test('Custom: the mean of each profile metric, names lower-cased, unknown names ignored', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock)
  const custom = queues.get('custom')
  custom.insert(new Metrics([new Metric('MAE', 1), new Metric('mape', 10), new Metric('rmse', 99)]))
  custom.insert(Metrics.fromObject({ mae: 2 }))
  custom.insert(Metrics.fromObject({ Mae: 6, MAPE: 20 }))
  const stats = (await queues.shutdown()).custom!
  t.deepEqual(
    customRecords(mock).map((r) => [r.metric, r.value]),
    [
      ['mae', 3],
      ['mape', 15],
    ],
  )
  t.like(customRecords(mock)[0], { space: 'scouter', name: 'custom_model', version: '0.1.0' })
  t.like(stats, { inserted: 3, published: 3, records: 2, documents: 1 })
})

test('Custom: a full batch of sample_size sets publishes by itself', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock)
  for (let i = 1; i <= 30; i++) queues.get('custom').insert(Metrics.fromObject({ mae: i }))
  while (queues.get('custom').stats().documents < 1) await new Promise((r) => setTimeout(r, 5))
  t.deepEqual(customRecords(mock).map((r) => r.value), [13])
  await queues.shutdown()
  t.deepEqual(customRecords(mock).map((r) => r.value), [13, 28])
})

test('Custom: NaN and infinities are dropped and counted', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock)
  queues.get('custom').insert(Metrics.fromObject({ mae: NaN, mape: Infinity }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 4 }))
  const stats = (await queues.shutdown()).custom!
  t.deepEqual(customRecords(mock).map((r) => [r.metric, r.value]), [['mae', 4]])
  t.is(stats.droppedValues, 2)
})

test('Custom timer publishes after flushIntervalMs', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, mock, { flushIntervalMs: 100 })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1.25 }))
  const started = Date.now()
  while (mock.documents().length === 0) {
    t.true(Date.now() - started < 5000, 'the timer never published')
    await new Promise((r) => setTimeout(r, 10))
  }
  t.deepEqual(customRecords(mock).map((r) => r.value), [1.25])
  await queues.shutdown()
})
