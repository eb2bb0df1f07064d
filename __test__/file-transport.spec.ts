import test from 'ava'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { ConfigError, Features, FileConfig, LLMRecord, Metrics, ScouterQueue, type ServerRecords } from '../ts/index'
import { withEnv } from './helpers/env'
import { customValues, profiles, psiCounts, recordsOf, tempDir } from './helpers/fixtures'

const readLines = (path: string): ServerRecords[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ServerRecords)

test('File: each document is one JSON line, appended; every kind end to end', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  writeFileSync(path, '{"records":[]}\n')
  const queues = await ScouterQueue.fromPath(profiles, new FileConfig({ path }))
  queues.get('psi').insert(Features.fromObject({ feature_0: 4.5, color: 'blue' }))
  queues.get('spc').insert(Features.fromObject({ feature_0: 7, feature_1: 1 }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 0.5 }))
  const record = new LLMRecord({ context: { input: 'a', response: 'b' } })
  queues.get('llm').insert(record)
  const stats = await queues.shutdown()

  const docs = readLines(path)
  t.is(docs.length, 5, 'the earlier line is kept; one line per published document')
  t.deepEqual(docs[0], { records: [] })
  const ours = docs.slice(1)
  const ofKind = (kind: string) => ours.filter((d) => kind in d.records[0]!)
  t.is(psiCounts(ofKind('Psi'))['feature_0:5'], 1)
  t.is(psiCounts(ofKind('Psi'))['color:2'], 1)
  t.deepEqual(
    recordsOf(ofKind('Spc')).map((r) => ('Spc' in r ? [r.Spc.feature, r.Spc.value] : [])),
    [
      ['feature_0', 7],
      ['feature_1', 1],
    ],
  )
  t.deepEqual(recordsOf(ofKind('Custom')).map((r) => ('Custom' in r ? r.Custom.value : null)), [0.5])
  t.deepEqual(recordsOf(ofKind('LLMDrift')).map((r) => ('LLMDrift' in r ? r.LLMDrift.record.uid : null)), [record.uid])
  for (const s of Object.values(stats)) t.like(s, { pending: 0, failed: 0, published: 1 })
})

test('File: flush makes what was inserted readable from the file', async (t) => {
  const path = join(tempDir(), 'flush.jsonl')
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new FileConfig({ path }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  await queues.flush()
  t.is(readLines(path).length, 1)
  queues.get('custom').insert(Metrics.fromObject({ mae: 4 }))
  await queues.flush()
  t.deepEqual(customValues(readLines(path)), [2, 4])
  await queues.shutdown()
})

test('File: the path falls back to SCOUTER_FILE_PATH, then scouter-records.jsonl', (t) => {
  withEnv({ SCOUTER_FILE_PATH: undefined }, () => t.is(new FileConfig().path, 'scouter-records.jsonl'))
  withEnv({ SCOUTER_FILE_PATH: '/tmp/from-env.jsonl' }, () => {
    t.is(new FileConfig().path, '/tmp/from-env.jsonl')
    t.is(new FileConfig({ path: 'explicit.jsonl' }).path, 'explicit.jsonl')
  })
})

test('File: a path that cannot be opened rejects fromPath with ConfigError', async (t) => {
  const error = await t.throwsAsync(
    ScouterQueue.fromPath({ psi: profiles.psi }, new FileConfig({ path: '/nonexistent-dir/sub/out.jsonl' })),
    { instanceOf: ConfigError },
  )
  t.regex(error.message, /nonexistent-dir\/sub\/out\.jsonl/)
})

test('File: option values are checked', (t) => {
  t.throws(() => new FileConfig({ maxRetries: -1 }), { instanceOf: ConfigError, message: /maxRetries/ })
  t.throws(() => new FileConfig({ maxRetries: 1.5 }), { instanceOf: ConfigError })
})
