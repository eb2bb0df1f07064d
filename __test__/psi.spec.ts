import test from 'ava'

import { Feature, Features, MockConfig, ScouterQueue } from '../ts/index'
import { editedProfile, profiles, psiCounts, recordsOf } from './helpers/fixtures'

// Fixture: feature_0 has numeric bins 1 = (-inf, 1], 2 = (1, 2], ..., 10 = (9, inf);
// color has category bins 0, 1, 2 and the feature map red 0, green 1, blue 2, missing 3.

const allBins = (feature: string, ids: number[], counts: Record<number, number>) =>
  Object.fromEntries(ids.map((id) => [`${feature}:${id}`, counts[id] ?? 0]))

test('PSI counts every value into its bin, zero-count bins included', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  const psi = queues.get('psi')
  const values = [0.5, 1, 1.5, 2, 4.2, 9, 9.01, 100, -7]
  for (const v of values) psi.insert(new Features([Feature.float('feature_0', v)]))
  await queues.flush()
  const docs = mock.documents()
  t.is(docs.length, 1)
  t.deepEqual(psiCounts(docs), allBins('feature_0', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { 1: 3, 2: 2, 5: 1, 9: 1, 10: 2 }))
  const first = recordsOf(docs)[0]!
  t.true('Psi' in first)
  if ('Psi' in first) {
    t.like(first.Psi, { space: 'scouter', name: 'psi_model', version: '0.1.0', feature: 'feature_0', bin_id: 1, bin_count: 3 })
  }
  const stats = (await queues.shutdown()).psi!
  t.like(stats, { inserted: 9, published: 9, pending: 0, records: 10, documents: 1, droppedValues: 0 })
})

test('PSI maps strings through the feature map, with the missing fallback', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  const psi = queues.get('psi')
  for (const color of ['red', 'red', 'blue', 'green', 'purple']) {
    psi.insert(Features.fromObject({ color }))
  }
  psi.insert(new Features([Feature.int('color', 2)]))
  psi.insert(new Features([Feature.float('color', 1.9)]))
  const stats = (await queues.shutdown()).psi!
  // 'purple' maps to the code of "missing" (3), which has no bin: dropped and counted.
  t.deepEqual(psiCounts(mock.documents()), allBins('color', [0, 1, 2], { 0: 2, 1: 2, 2: 2 }))
  t.like(stats, { inserted: 7, published: 7, droppedValues: 1 })
})

test('PSI: a string with no code and no missing fallback is dropped, the rest of the batch is kept', async (t) => {
  const path = editedProfile('psi', (p) => delete p.config.feature_map.features.color.missing)
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: path }, mock)
  const psi = queues.get('psi')
  psi.insert(Features.fromObject({ feature_0: 3.5, color: 'purple' }))
  psi.insert(Features.fromObject({ feature_0: NaN, color: 'green' }))
  psi.insert(new Features([Feature.int('color', -1), Feature.float('feature_0', Infinity)]))
  psi.insert(new Features([Feature.int('color', 7)]))
  const stats = (await queues.shutdown()).psi!
  t.deepEqual(psiCounts(mock.documents()), {
    ...allBins('feature_0', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { 4: 1, 10: 1 }),
    ...allBins('color', [0, 1, 2], { 1: 1 }),
  })
  // purple (no code), NaN, -1 (negative code), 7 (no bin).
  t.is(stats.droppedValues, 4)
  t.is(stats.published, 4)
})

test('PSI: unmonitored and unknown features are ignored; -inf and +inf land in the end bins', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  queues.get('psi').insert(Features.fromObject({ feature_0: -Infinity, feature_unmonitored: 5, other: 'x' }))
  queues.get('psi').insert(Features.fromObject({ feature_0: Infinity }))
  await queues.shutdown()
  const counts = psiCounts(mock.documents())
  t.deepEqual(Object.keys(counts).filter((k) => !k.startsWith('feature_0:')), [])
  t.is(counts['feature_0:1'], 1)
  t.is(counts['feature_0:10'], 1)
})

test('PSI publishes a full batch of 1000 rows without a flush', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  const psi = queues.get('psi')
  for (let i = 0; i < 1500; i++) psi.insert(Features.fromObject({ feature_0: (i % 10) + 0.5 }))
  // The full batch goes out on its own; wait for it through the accounting, not a sleep.
  while (queues.get('psi').stats().documents < 1) await new Promise((r) => setTimeout(r, 5))
  t.is(mock.documents().length, 1)
  t.deepEqual(psiCounts(mock.documents()), allBins('feature_0', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((id) => [id, 100]))))
  await queues.shutdown()
  t.is(mock.documents().length, 2)
  t.is(Object.values(psiCounts(mock.documents())).reduce((a, b) => a + b, 0), 1500)
})

test('PSI timer publishes after flushIntervalMs without a flush', async (t) => {
  const mock = new MockConfig()
  // The interval runs from when the queue starts, inside fromPath: measured from before it.
  const started = Date.now()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock, { flushIntervalMs: 150 })
  queues.get('psi').insert(Features.fromObject({ feature_0: 2.5 }))
  while (mock.documents().length === 0) {
    t.true(Date.now() - started < 5000, 'the timer never published')
    await new Promise((r) => setTimeout(r, 10))
  }
  t.true(Date.now() - started >= 145, `published after ${Date.now() - started} ms`)
  t.is(psiCounts(mock.documents())['feature_0:3'], 1)
  await queues.shutdown()
})

test('PSI: rows with different feature orders and names are each encoded by name', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  const psi = queues.get('psi')
  psi.insert(Features.fromObject({ feature_0: 1.5, color: 'red' }))
  psi.insert(Features.fromObject({ color: 'blue', feature_0: 2.5 }))
  psi.insert(Features.fromObject({ other: 'x', color: 'green' }))
  psi.insert(Features.fromObject({ color: 'red', other: 9.5, feature_0: 9.5 }))
  // A name given twice is a mistake, refused when the row is built (not "the last one wins").
  t.throws(() => new Features([Feature.float('feature_0', 1.5), Feature.float('feature_0', 3.5)]), { instanceOf: TypeError })
  await queues.shutdown()
  t.deepEqual(psiCounts(mock.documents()), {
    ...allBins('feature_0', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { 2: 1, 3: 1, 10: 1 }),
    ...allBins('color', [0, 1, 2], { 0: 2, 1: 1, 2: 1 }),
  })
})

test('PSI: rows of more than 32 monitored features are encoded whole, from objects and from builders', async (t) => {
  const names = Array.from({ length: 40 }, (_, i) => `f${i}`)
  const path = editedProfile('psi', (p) => {
    const bins = p.features.feature_0
    p.features = Object.fromEntries(names.map((name) => [name, { ...bins, id: name }]))
    p.config.alert_config.features_to_monitor = names
  })
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: path }, mock)
  const psi = queues.get('psi')
  // Feature i gets value i % 10 + 0.5, i.e. bin (i % 10) + 1; f33 and f39 are left out of row 2.
  psi.insert(Features.fromObject(Object.fromEntries(names.map((name, i) => [name, (i % 10) + 0.5]))))
  psi.insert(new Features(names.filter((n) => n !== 'f33' && n !== 'f39').map((name) => Feature.float(name, (Number(name.slice(1)) % 10) + 0.5))))
  psi.insert(Features.fromObject({ f35: 7.5, f2: 100 }))
  await queues.shutdown()
  const counts = psiCounts(mock.documents())
  t.is(counts['f0:1'], 2)
  t.is(counts['f33:4'], 1, 'absent in the second row')
  t.is(counts['f39:10'], 1, 'absent in the second row')
  t.is(counts['f35:6'], 2)
  t.is(counts['f35:8'], 1)
  t.is(counts['f2:3'], 2)
  t.is(counts['f2:10'], 1)
  t.is(Object.values(counts).reduce((a, b) => a + b, 0), 40 + 38 + 2)
})

test('PSI: Features.fromObject reads the row when it is inserted; features are still listed', async (t) => {
  const row = Features.fromObject({ feature_0: 2.5, color: 'green' })
  t.deepEqual(
    row.features.map((f) => [f.name, f.kind, f.value]),
    [
      ['feature_0', 'float', 2.5],
      ['color', 'string', 'green'],
    ],
  )
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, mock)
  queues.get('psi').insert(row)
  await queues.shutdown()
  t.like(psiCounts(mock.documents()), { 'feature_0:3': 1, 'color:1': 1 })
})

test('PSI: categories named like Object.prototype members ("__proto__", "constructor", "toString") map to their codes', async (t) => {
  // JSON.parse keeps "__proto__" as an own key; an object literal would set the prototype instead.
  const colors = JSON.parse('{"__proto__": 0, "constructor": 1, "toString": 2, "missing": 3}')
  const path = editedProfile('psi', (p) => (p.config.feature_map.features.color = colors))
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: path }, mock)
  const psi = queues.get('psi')
  for (const color of ['__proto__', '__proto__', 'constructor', 'toString', 'red']) psi.insert(Features.fromObject({ color }))
  psi.insert(new Features([Feature.string('color', '__proto__')]))
  psi.insert(new Features([Feature.categorical('color', 'constructor')]))
  const stats = (await queues.shutdown()).psi!
  // 'red' is not in this map: it takes the code of "missing" (3), which has no bin: dropped.
  t.deepEqual(psiCounts(mock.documents()), allBins('color', [0, 1, 2], { 0: 3, 1: 2, 2: 1 }))
  t.like(stats, { inserted: 7, published: 7, droppedValues: 1 })
})
