import test from 'ava'

import { EvalRecord, LLMRecord, MockConfig, ScouterQueue, type UidServerRecords } from '../ts/index'
import { profiles, uidProfiles } from './helpers/fixtures'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('EvalRecord: identity stamped when built, defaults for id and sessionId', (t) => {
  const before = Date.now()
  const record = new EvalRecord({ context: { input: 'hi' } })
  t.regex(record.uid, UUID_V7)
  t.regex(record.sessionId, UUID_V7)
  t.not(record.sessionId, record.uid)
  t.is(record.id, '')
  t.is(record.traceId, null)
  t.deepEqual(record.tags, [])
  t.regex(record.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)
  const at = Date.parse(record.createdAt)
  t.true(at >= before - 1 && at <= Date.now() + 1)
  // The uid encodes the same millisecond as createdAt (UUIDv7: 48-bit ms timestamp first).
  t.is(parseInt(record.uid.replace(/-/g, '').slice(0, 12), 16), at)
  const given = new EvalRecord({ context: {}, id: 'r-1', sessionId: 'session-a', traceId: 'ABCDEF0123456789abcdef0123456789' })
  t.like(given, { id: 'r-1', sessionId: 'session-a', traceId: 'abcdef0123456789abcdef0123456789' }, 'trace ids go out in lower case, as the original sends them')
})

test('EvalRecord: bad arguments are TypeErrors naming the field', (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /EvalRecord needs \{ context/],
    [{ context: [1, 2] }, /context must be a plain object, got an array/],
    [{ context: new Map() }, /context must be a plain object/],
    [{ context: { n: 1n } }, /context is not JSON-serializable/],
    [{ context: { toJSON: () => [1] } }, /context must serialize to a JSON object/],
    [{ context: {}, id: 5 }, /id must be a string, got 5/],
    [{ context: {}, sessionId: '' }, /sessionId must be a non-empty string/],
    [{ context: {}, sessionId: 7 }, /sessionId must be a non-empty string/],
    [{ context: {}, traceId: 'abc' }, /traceId must be 32 hex digits/],
    [{ context: {}, traceId: 'g'.repeat(32) }, /traceId must be 32 hex digits/],
    [{ context: {}, traceId: '0'.repeat(33) }, /traceId must be 32 hex digits/],
    [{ context: {}, traceId: 12 }, /traceId must be 32 hex digits/],
  ]
  for (const [init, message] of bad) {
    t.throws(() => new EvalRecord(init as never), { instanceOf: TypeError, message }, JSON.stringify(String(init)))
  }
  const throwing = { get context(): never { throw new Error('getter') } }
  t.throws(() => new EvalRecord(throwing), { instanceOf: TypeError, message: /reading the argument threw/ })
  const record = new EvalRecord({ context: {} })
  t.throws(() => record.addTag('', 'v'), { instanceOf: TypeError, message: /tag key/ })
  t.throws(() => record.addTag('a=b', 'v'), { instanceOf: TypeError, message: /without '='/ })
  t.throws(() => record.addTag('k', 5 as never), { instanceOf: TypeError, message: /tag value must be a string/ })
  t.deepEqual(record.tags, [], 'a refused tag is not added')
})

test('EvalRecord: tags go out in order as key=value, as they were when inserted', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ genai: uidProfiles.genai }, mock)
  const record = new EvalRecord({ context: { q: 'x' } }).addTag('env', 'prod').addTag('model', 'a=b c')
  queues.get('genai').insert(record)
  record.addTag('late', 'not sent')
  await queues.shutdown()
  const documents = mock.documents() as unknown as UidServerRecords[]
  const sent = documents.flatMap((doc) => doc.records.map((r) => ('GenAIEval' in r ? r.GenAIEval.record : null)))
  t.deepEqual(sent.map((r) => r?.tags), [['env=prod', 'model=a=b c']])
  t.deepEqual(record.tags, ['env=prod', 'model=a=b c', 'late=not sent'])
})

test('EvalRecord and LLMRecord only go into their own kind of queue, and nothing is counted otherwise', async (t) => {
  const queues = await ScouterQueue.fromPath({ genai: uidProfiles.genai, llm: profiles.llm }, new MockConfig())
  t.throws(() => queues.get('genai').insert(new LLMRecord({ context: {} })), {
    instanceOf: TypeError,
    message: "GENAI queue 'genai' takes EvalRecord, got an instance of LLMRecord",
  })
  t.throws(() => queues.get('llm').insert(new EvalRecord({ context: {} })), { instanceOf: TypeError, message: /takes LLMRecord, got an instance of EvalRecord/ })
  const forged = Object.create(EvalRecord.prototype) as EvalRecord
  t.throws(() => queues.get('genai').insert(forged), { instanceOf: TypeError, message: /not built by its constructor/ })
  const stats = await queues.shutdown()
  t.like(stats.genai, { inserted: 0, published: 0 })
  t.like(stats.llm, { inserted: 0, published: 0 })
})
