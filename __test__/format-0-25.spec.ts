/**
 * The 0.25 wire format end to end through the File transport: the four 0.25 fixtures publish
 * uid records with exact numbers, GenAI queues batch and sample, a v0.9 queue beside them is
 * unchanged, and bad 0.25 profiles are `ProfileError`s naming the field.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'

import { EvalRecord, Features, FileConfig, Metrics, MockConfig, ProfileError, ScouterQueue, type ServerRecords, type UidServerRecords } from '../ts/index'
import { profiles, tempDir, uidProfiles } from './helpers/fixtures'

const UID = {
  spc: '0197f3a0-0000-7000-8000-000000000001',
  psi: '0197f3a0-0000-7000-8000-000000000002',
  custom: '0197f3a0-0000-7000-8000-000000000003',
  genai: '0197f3a0-0000-7000-8000-000000000004',
}
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/

function readLines(path: string): Array<ServerRecords | UidServerRecords> {
  return readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
}

/** A 0.25 fixture with `edit` applied; returns the path. */
function editedUidProfile(kind: keyof typeof uidProfiles, edit: (profile: any) => void): string {
  const profile = JSON.parse(readFileSync(uidProfiles[kind], 'utf8'))
  edit(profile)
  const path = join(tempDir(), `${kind}_0_25.json`)
  writeFileSync(path, JSON.stringify(profile))
  return path
}

test('0.25: every kind publishes uid records with exact numbers, beside an unchanged v0.9 queue', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  const queues = await ScouterQueue.fromPath({ ...uidProfiles, old: profiles.custom }, new FileConfig({ path }))
  t.deepEqual(
    (['spc', 'psi', 'custom', 'genai', 'old'] as const).map((alias) => [queues.get(alias).kind, queues.get(alias).format]),
    [['spc', '0.25'], ['psi', '0.25'], ['custom', '0.25'], ['genai', '0.25'], ['custom', 'v0.9']],
  )
  // SPC: 25 rows (one full chunk) then 2 more (a partial chunk at shutdown).
  for (let i = 0; i < 27; i++) queues.get('spc').insert(Features.fromObject({ feature_0: i, feature_1: 1, color: i % 2 === 0 ? 'red' : 'blue' }))
  // PSI: feature_0 bins (-inf,1] (1,2] ... (9,inf); color codes blue 0, green 1, red 2.
  // Infinities: the 0.25 client skips non-finite values, so they are dropped and counted here.
  for (const value of [0.5, 1, 1.5, 9.5, 100, Infinity, -Infinity]) queues.get('psi').insert(Features.fromObject({ feature_0: value }))
  for (const color of ['red', 'red', 'green']) queues.get('psi').insert(Features.fromObject({ color }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 1, mape: 2 }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 4 }))
  queues.get('old').insert(Metrics.fromObject({ mae: 1 }))
  const evalRecord = new EvalRecord({ context: { input: 'a' }, sessionId: 's-1' })
  queues.get('genai').insert(evalRecord)
  const stats = await queues.shutdown()
  for (const alias of ['spc', 'psi', 'custom', 'genai', 'old'] as const) t.like(stats[alias], { pending: 0, failed: 0, dropped: 0 }, alias)
  t.is(stats.psi.droppedValues, 2, '+inf and -inf of a numeric feature')
  const documents = readLines(path)
  const records = documents.flatMap((doc) => doc.records as unknown as Array<Record<string, Record<string, unknown>>>)
  for (const record of records) {
    const [kind, body] = Object.entries(record)[0]!
    if (kind === 'GenAIEval') continue
    t.regex(body.created_at as string, RFC3339)
    if (body.space === undefined) t.is(body.entity_id, 0)
  }
  const strip = (kind: string) => records.filter((r) => kind in r).map((r) => {
    const { created_at: _, ...rest } = r[kind]!
    return rest
  })
  const spcMean = (from: number, to: number) => {
    let sum = 0
    for (let i = from; i < to; i++) sum += i
    return sum / (to - from)
  }
  t.deepEqual(strip('Spc'), [
    { uid: UID.spc, feature: 'feature_0', value: spcMean(0, 25), entity_id: 0 },
    { uid: UID.spc, feature: 'feature_1', value: 1, entity_id: 0 },
    // red 2, blue 0, alternating from red: 13 red, 12 blue in the first 25.
    { uid: UID.spc, feature: 'color', value: (13 * 2) / 25, entity_id: 0 },
    { uid: UID.spc, feature: 'feature_0', value: spcMean(25, 27), entity_id: 0 },
    { uid: UID.spc, feature: 'feature_1', value: 1, entity_id: 0 },
    { uid: UID.spc, feature: 'color', value: 1, entity_id: 0 },
  ])
  const psi = strip('Psi')
  const counts = Object.fromEntries(psi.map((r) => [`${r.feature}:${r.bin_id}`, r.bin_count]))
  t.deepEqual(counts, {
    'feature_0:1': 2, 'feature_0:2': 1, 'feature_0:3': 0, 'feature_0:4': 0, 'feature_0:5': 0,
    'feature_0:6': 0, 'feature_0:7': 0, 'feature_0:8': 0, 'feature_0:9': 0, 'feature_0:10': 2,
    'color:2': 2, 'color:0': 0, 'color:1': 1,
  })
  t.true(psi.every((r) => r.uid === UID.psi && r.entity_id === 0 && Object.keys(r).length === 5))
  const customDocs = documents.filter((doc) => 'Custom' in doc.records[0]!)
  t.deepEqual(strip('Custom').filter((r) => r.uid !== undefined), [
    { uid: UID.custom, metric: 'mae', value: 2.5, entity_id: 0 },
    { uid: UID.custom, metric: 'mape', value: 2, entity_id: 0 },
  ])
  t.deepEqual(strip('Custom').filter((r) => r.uid === undefined), [
    { space: 'scouter', name: 'custom_model', version: '0.1.0', metric: 'mae', value: 1 },
  ], 'the v0.9 queue is unchanged')
  t.is(customDocs.length, 2, 'formats never share a document')
  t.deepEqual(records.filter((r) => 'GenAIEval' in r).map((r) => r.GenAIEval), [
    {
      record: {
        record_id: '', session_id: 's-1', created_at: evalRecord.createdAt, uid: evalRecord.uid, context: { input: 'a' },
        id: 0, updated_at: null, processing_started_at: null, processing_ended_at: null, processing_duration: null,
        entity_id: 0, entity_uid: UID.genai, status: 'Pending', entity_type: 'GenAI', retry_count: 0, trace_id: null, tags: [],
      },
    },
  ])
})

test('0.25 GenAI: 25 records per document, the rest at flush; sample_ratio 0 keeps none', async (t) => {
  const mock = new MockConfig()
  const none = editedUidProfile('genai', (p) => (p.config.sample_ratio = 0))
  const queues = await ScouterQueue.fromPath({ genai: uidProfiles.genai, none }, mock)
  const built = Array.from({ length: 60 }, (_, n) => new EvalRecord({ context: { n }, id: `r${n}` }))
  for (const record of built) queues.get('genai').insert(record)
  for (let n = 0; n < 100; n++) queues.get('none').insert(new EvalRecord({ context: { n } }))
  const stats = await queues.flush()
  const documents = mock.documents() as unknown as UidServerRecords[]
  t.deepEqual(documents.map((doc) => doc.records.length), [25, 25, 10])
  const ids = documents.flatMap((doc) => doc.records.map((r) => ('GenAIEval' in r ? r.GenAIEval.record.record_id : '')))
  t.deepEqual(ids, built.map((r) => r.id))
  t.like(stats.genai, { inserted: 60, published: 60, records: 60, documents: 3, sampledOut: 0 })
  t.like(stats.none, { inserted: 100, published: 0, sampledOut: 100, documents: 0, pending: 0 })
  await queues.shutdown()
})

test('0.25 GenAI: sample_ratio 0.3 keeps about 30 %, and every record is accounted for', async (t) => {
  const mock = new MockConfig()
  const path = editedUidProfile('genai', (p) => (p.config.sample_ratio = 0.3))
  const queues = await ScouterQueue.fromPath({ genai: path }, mock)
  for (let n = 0; n < 4000; n++) queues.get('genai').insert(new EvalRecord({ context: { n } }))
  const stats = (await queues.shutdown()).genai!
  // Binomial(4000, 0.3): mean 1200, sd ~29; 6 sd either side.
  t.true(stats.published >= 1026 && stats.published <= 1374, `${stats.published}`)
  t.is(stats.published + stats.sampledOut, 4000)
  t.is(stats.records, stats.published)
})

test('0.25 profiles: what is wrong is a ProfileError naming the field', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    [editedUidProfile('spc', (p) => delete p.config.uid), 'config.uid', /is missing/],
    [editedUidProfile('psi', (p) => (p.config.uid = 12)), 'config.uid', /must be a string/],
    [editedUidProfile('custom', (p) => (p.config.drift_type = 'Agent')), 'config.drift_type', /"Spc", "Psi", "Custom", "GenAI" in a Scouter 0.25 profile \(got "Agent"\)/],
    [editedUidProfile('custom', (p) => (p.config.drift_type = 'LLM')), 'config.drift_type', /in a Scouter 0.25 profile \(got "LLM"\)/],
    [editedUidProfile('genai', (p) => delete p.config.sample_ratio), 'config.sample_ratio', /is missing/],
    [editedUidProfile('genai', (p) => (p.config.sample_ratio = 1.5)), 'config.sample_ratio', /must be between 0 and 1 \(got 1.5\)/],
    [editedUidProfile('genai', (p) => (p.config.sample_ratio = -0.01)), 'config.sample_ratio', /must be between 0 and 1/],
    [editedUidProfile('genai', (p) => (p.config.sample_ratio = '1')), 'config.sample_ratio', /invalid type/],
  ]
  for (const [path, field, reason] of cases) {
    const error = await t.throwsAsync(ScouterQueue.fromPath({ q: path }, new MockConfig()), { instanceOf: ProfileError })
    t.is(error?.field, field, path)
    t.regex(error?.message ?? '', reason)
    t.true(error?.message.includes(path), 'names the file')
  }
})
