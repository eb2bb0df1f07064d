import test from 'ava'

import { Feature, Features, LLMRecord, Metrics, MockConfig, ScouterQueue } from '../ts/index'
import { profiles } from './helpers/fixtures'

/** RFC 3339 UTC with nine fraction digits and a Z, as the Python client writes. */
const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/

test('wire: integers are JSON integers, values finite floats, timestamps RFC 3339 UTC', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath(profiles, mock)
  queues.get('psi').insert(new Features([Feature.float('feature_0', 2.5), Feature.float('color', NaN)]))
  queues.get('spc').insert(Features.fromObject({ feature_0: 1.5, feature_1: Infinity }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 0.1, mape: NaN }))
  queues.get('llm').insert(new LLMRecord({ context: { x: 1 } }))
  await queues.shutdown()
  const raw = mock.rawDocuments()
  t.is(raw.length, 4)
  for (const text of raw) {
    t.false(/"(bin_id|bin_count|id)":-?\d+\.\d/.test(text), 'ids and counts are never written as floats')
    t.false(/null,"(value)"|"value":null/.test(text), 'no NaN/inf values (JSON would carry null)')
    t.regex(text, /^\{"records":\[\{"(Spc|Psi|Custom|LLMDrift)":\{/)
    const doc = JSON.parse(text)
    t.true(doc.records.length > 0, 'never an empty records array')
    for (const record of doc.records) {
      const [kind] = Object.keys(record)
      const body = kind === 'LLMDrift' ? record.LLMDrift.record : record[kind!]
      t.regex(body.created_at, RFC3339_UTC)
      if ('value' in body) t.true(Number.isFinite(body.value))
      if ('bin_id' in body) t.true(Number.isInteger(body.bin_id) && body.bin_id >= 0)
    }
  }
  const psi = raw.find((d) => d.includes('"Psi"'))!
  t.regex(psi, /"bin_id":3,"bin_count":1\}/)
  t.notRegex(psi, /"color"/, 'a feature with no usable value yields no record')
})

test('wire: field order and names match the server structs exactly', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom, llm: profiles.llm }, mock)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1.25 }))
  const llm = new LLMRecord({ context: { input: 'hi' }, prompt: 'p' })
  queues.get('llm').insert(llm)
  await queues.shutdown()
  const raw = mock.rawDocuments().sort()  // two queues: order between them is not defined
  t.regex(
    raw[0]!,
    /^\{"records":\[\{"Custom":\{"created_at":"[^"]+","space":"scouter","name":"custom_model","version":"0\.1\.0","metric":"mae","value":1\.25\}\}\]\}$/,
  )
  t.is(
    raw[1],
    `{"records":[{"LLMDrift":{"record":{"created_at":"${llm.createdAt}","space":"scouter","name":"llm_metrics","version":"0.0.1",` +
      `"prompt":"p","context":{"input":"hi"},"status":"Pending","id":0,"uid":"${llm.uid}","score":null,"updated_at":null,` +
      `"processing_started_at":null,"processing_ended_at":null,"processing_duration":null}}}]}`,
  )
})
