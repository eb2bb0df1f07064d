import test from 'ava'

import { LLMRecord, MockConfig, ScouterQueue } from '../ts/index'
import { editedProfile, profiles, recordsOf } from './helpers/fixtures'

test('LLM: each record goes out with its uid, created_at, context and prompt', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock)
  const a = new LLMRecord({ context: { input: 'hi', response: 'hello' } })
  const b = new LLMRecord({ context: { input: 'q', nested: { n: [1, 2] } }, prompt: { message: 'rate it' } })
  queues.get('llm').insert(a)
  queues.get('llm').insert(b)
  const stats = (await queues.shutdown()).llm!
  // Each record is its own document (sample_rate 1), in insertion order.
  const records = recordsOf(mock.documents()).map((r) => {
    if (!('LLMDrift' in r)) throw new Error('not LLM')
    return r.LLMDrift.record
  })
  t.is(records.length, 2)
  t.deepEqual(records[0], {
    created_at: a.createdAt,
    space: 'scouter',
    name: 'llm_metrics',
    version: '0.0.1',
    prompt: null,
    context: { input: 'hi', response: 'hello' },
    status: 'Pending',
    id: 0,
    uid: a.uid,
    score: null,
    updated_at: null,
    processing_started_at: null,
    processing_ended_at: null,
    processing_duration: null,
  })
  t.deepEqual(records[1]!.prompt, { message: 'rate it' })
  t.deepEqual(records[1]!.context, { input: 'q', nested: { n: [1, 2] } })
  t.like(stats, { inserted: 2, published: 2, sampledOut: 0, records: 2 })
})

test('LLM: sample_rate keeps about one in N and counts the rest as sampledOut', async (t) => {
  const path = editedProfile('llm', (p) => (p.config.sample_rate = 4))
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ llm: path }, mock)
  for (let i = 0; i < 4000; i++) queues.get('llm').insert(new LLMRecord({ context: { i } }))
  const stats = (await queues.shutdown()).llm!
  const kept = recordsOf(mock.documents()).length
  // Binomial(4000, 1/4): mean 1000, sd ~27; 6 sd either side.
  t.true(kept > 836 && kept < 1164, `kept ${kept}`)
  t.is(stats.published, kept)
  t.is(stats.sampledOut, 4000 - kept)
  t.is(stats.pending, 0)
})
