import test from 'ava'

import { Feature, Features, MockConfig, ScouterQueue, type SpcServerRecord } from '../ts/index'
import { editedProfile, profiles, recordsOf } from './helpers/fixtures'

// Fixture: sample_size 25, monitored feature_0, feature_1, color (red 0, green 1, blue 2, missing 3).

function spcRecords(mock: MockConfig): SpcServerRecord[] {
  return recordsOf(mock.documents()).map((r) => {
    if (!('Spc' in r)) throw new Error('not SPC')
    return r.Spc
  })
}

test('SPC: one mean per monitored feature per sample_size rows', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ spc: profiles.spc }, mock)
  const spc = queues.get('spc')
  for (let i = 0; i < 25; i++) {
    spc.insert(new Features([Feature.float('feature_0', i), Feature.int('feature_1', -2), Feature.string('color', i < 5 ? 'blue' : 'red'), Feature.float('ignored', 1e9)]))
  }
  // A full batch publishes on its own.
  while (spc.stats().documents < 1) await new Promise((r) => setTimeout(r, 5))
  t.deepEqual(
    spcRecords(mock).map((r) => [r.feature, r.value]),
    [
      ['feature_0', 12],
      ['feature_1', -2],
      ['color', 0.4],
    ],
  )
  t.like(spcRecords(mock)[0], { space: 'scouter', name: 'spc_model', version: '0.1.0' })
  await queues.shutdown()
})

test('SPC: rows below sample_size are published at shutdown, not lost', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ spc: profiles.spc }, mock)
  const spc = queues.get('spc')
  for (let i = 0; i < 60; i++) spc.insert(Features.fromObject({ feature_0: i % 2 === 0 ? 1 : 3 }))
  const stats = (await queues.shutdown()).spc!
  // Rows alternate 1, 3: the first 25 hold thirteen 1s (mean 1.96), the next 25 twelve (2.04),
  // the last 10 five of each (2). A queue's documents leave in the order they were made.
  t.deepEqual(
    spcRecords(mock).map((r) => r.value),
    [1.96, 2.04, 2],
  )
  t.is(mock.documents().length, 3, '25 + 25 + a short batch of 10')
  t.like(stats, { inserted: 60, published: 60, pending: 0, records: 3 })
})

test('SPC: missing features give fewer values; non-finite values are dropped and counted', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ spc: profiles.spc }, mock)
  const spc = queues.get('spc')
  spc.insert(Features.fromObject({ feature_0: 1 }))
  spc.insert(Features.fromObject({ feature_0: NaN, feature_1: 10 }))
  spc.insert(Features.fromObject({ feature_0: 4, feature_1: Infinity, color: 'purple' }))
  spc.insert(Features.fromObject({ feature_1: -Infinity }))
  const stats = (await queues.shutdown()).spc!
  t.deepEqual(
    spcRecords(mock).map((r) => [r.feature, r.value]),
    [
      ['feature_0', 2.5],
      ['feature_1', 10],
      ['color', 3],
    ],
  )
  t.is(stats.droppedValues, 3)
  t.is(stats.published, 4)
})

test('SPC: a batch with no usable value publishes nothing and still settles', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ spc: profiles.spc }, mock)
  queues.get('spc').insert(Features.fromObject({ feature_0: NaN }))
  queues.get('spc').insert(Features.fromObject({ unrelated: 1 }))
  const stats = (await queues.shutdown()).spc!
  t.deepEqual(mock.documents(), [])
  t.like(stats, { inserted: 2, published: 2, pending: 0, documents: 0, droppedValues: 1 })
})

test('SPC: bigint features are read as numbers', async (t) => {
  const path = editedProfile('spc', (p) => (p.config.sample_size = 2))
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ spc: path }, mock)
  queues.get('spc').insert(new Features([Feature.int('feature_0', 10n)]))
  queues.get('spc').insert(new Features([Feature.int('feature_0', 20)]))
  await queues.shutdown()
  t.deepEqual(spcRecords(mock).map((r) => r.value), [15])
})
