/**
 * The HTTP transport under server faults (contract section 5: "429, 5xx, time-outs and lost
 * connections are retried (honouring `Retry-After`); other 4xx are failures, counted, not
 * retried"), against the scripted Scouter server of helpers/scouter-server.ts on 127.0.0.1.
 *
 * Every document is one LLM record (the fixture's sample_rate is 1), so a document is one item
 * and its body is unique (its uid): attempts are counted per document on the server side.
 * `maxRetries` is set on each config so that attempt counts are exact, and `timeoutMs` is low
 * (1000) so that a hung server is a time-out well before its 10 s hang ends. Both, and every other
 * time the tests give something, are scaled by SCOUTER_TEST_SLOWDOWN (helpers/slowdown.ts).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'

import test, { type ExecutionContext } from 'ava'

import { HttpConfig, LLMRecord, ScouterQueue, TransportError, type QueueStats, type ScouterQueueError } from '../ts/index'
import { profiles } from './helpers/fixtures'
import { faults, ScouterTestServer, type RecordedRequest, type ScriptedResponse } from './helpers/scouter-server'
import { scaled, SLOWDOWN } from './helpers/slowdown'

const TIMEOUT_MS = scaled(1000)
/** How long a flush may take: the default `flushTimeoutMs` (30 s), scaled, as the time-outs are. */
const FLUSH_MS = scaled(30_000)

const drifts = (server: ScouterTestServer) => server.requests.filter((r) => r.path === '/scouter/drift')

/**
 * How much earlier than it happened an exchange may be stamped, as far as a gap between two of
 * them goes. The server stamps an exchange when its event loop (this process's) gets to it; under
 * emulation (SLOWDOWN > 1) the loop stalls for long stretches, and a hang-up and the retry that
 * followed it 40 ms later can be handled in the same turn. Natively: 0, the gaps are checked as
 * measured.
 */
function stampSlackMs(lag: IntervalHistogram): number {
  return SLOWDOWN > 1 ? lag.max / 1e6 : 0
}

/** A server closed when the test ends. */
async function started(t: ExecutionContext): Promise<ScouterTestServer> {
  const server = await ScouterTestServer.start()
  t.teardown(() => server.close())
  return server
}

interface Setup {
  queues: ScouterQueue
  errors: ScouterQueueError[]
  /** Inserts `count` LLM records; returns their uids. */
  insert: (count: number) => string[]
}

async function llmQueue(t: ExecutionContext, server: ScouterTestServer, maxRetries: number): Promise<Setup> {
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath(
    { llm: profiles.llm },
    new HttpConfig({ serverUri: server.uri, timeoutMs: TIMEOUT_MS, maxRetries }),
    { onError: (error) => errors.push(error) },
  )
  t.teardown(() => queues.shutdown(scaled(1000)).then(() => undefined))
  let next = 0
  const insert = (count: number): string[] => {
    const uids: string[] = []
    for (let i = 0; i < count; i++) {
      const record = new LLMRecord({ context: { input: `question ${next}`, response: `answer ${next}` } })
      next += 1
      queues.get('llm').insert(record)
      uids.push(record.uid)
    }
    return uids
  }
  return { queues, errors, insert }
}

/** The uid of the (single) LLM record a document body carries. */
function uidOf(body: string): string {
  const doc = JSON.parse(body) as { records: Array<{ LLMDrift: { record: { uid: string } } }> }
  return doc.records[0]!.LLMDrift.record.uid
}

/** The server's attempts at each document, in arrival order, keyed by the record's uid. */
function attemptsByDocument(server: ScouterTestServer): Map<string, RecordedRequest[]> {
  const byDoc = new Map<string, RecordedRequest[]>()
  const ordered = [...drifts(server)].sort((a, b) => a.receivedAt - b.receivedAt)
  for (const request of ordered) {
    const uid = uidOf(request.body)
    byDoc.set(uid, [...(byDoc.get(uid) ?? []), request])
  }
  return byDoc
}

/** A 2xx status line acknowledges the document, even if the connection broke in the body. */
const isAck = (r: RecordedRequest) => (r.outcome === 'answered' || r.outcome === 'reset') && r.status >= 200 && r.status < 300
const isPermanent = (r: RecordedRequest) => r.outcome === 'answered' && (r.status === 400 || r.status === 403)
const isRetryable = (r: RecordedRequest) =>
  r.outcome !== 'answered' || r.status === 429 || (r.status >= 500 && r.status < 600)
const describeAttempt = (r: RecordedRequest) => (r.outcome === 'answered' ? String(r.status) : r.outcome)

/**
 * What must hold after a flush whatever the faults: nothing the server acknowledged is lost or
 * stored twice, the queue's `published` is exactly the items of the acknowledged documents, and
 * every inserted record is either stored or counted as failed.
 */
function assertNothingLost(t: ExecutionContext, server: ScouterTestServer, uids: string[], stats: QueueStats): void {
  const stored = server.rawDocuments().map(uidOf)
  t.is(new Set(stored).size, stored.length, `a document is stored twice: ${stored.join(', ')}`)
  const acked = drifts(server).filter(isAck).map((r) => uidOf(r.body))
  t.deepEqual([...acked].sort(), [...stored].sort(), 'the store holds exactly the acknowledged documents')
  t.is(stats.published, acked.length, `published ${stats.published} items, the server acknowledged ${acked.length} documents`)
  t.is(stats.documents, acked.length)
  t.is(stats.pending, 0)
  t.is(stats.published + stats.failed, uids.length, 'every inserted record is published or failed')
  const unknown = stored.filter((uid) => !uids.includes(uid))
  t.deepEqual(unknown, [], 'the server stored only records that were inserted')
}

// ---------------------------------------------------------------------------------------------
// One fault at a time: exact attempts per document

const retryable: Array<[name: string, script: ScriptedResponse, first: string, minGapMs: number]> = [
  ['503 with Retry-After: 2', { status: 503, retryAfterSeconds: 2 }, '503', 2000],
  ['429 without Retry-After', { status: 429 }, '429', 40],
  ['500', { status: 500 }, '500', 40],
  ['a 10 s hang, longer than timeoutMs', faults.hang(scaled(10_000)), 'abandoned', 40],
  ['a connection reset after a 503 status line and half the body', faults.reset(503), 'reset', 40],
]

for (const [name, script, first, minGapMs] of retryable) {
  test(`HTTP fault: ${name} is retried once (maxRetries 1), then published exactly once`, async (t) => {
    const server = await started(t)
    const { queues, errors, insert } = await llmQueue(t, server, 1)
    server.failNext(script)
    const uids = insert(1)
    const lag = monitorEventLoopDelay({ resolution: 10 })
    lag.enable()
    const begin = performance.now()
    const stats = (await queues.flush(FLUSH_MS)).llm!
    const elapsed = performance.now() - begin
    lag.disable()

    const attempts = attemptsByDocument(server).get(uids[0]!) ?? []
    t.log(`attempts ${attempts.map(describeAttempt).join('>')}; published ${stats.published}, failed ${stats.failed}; server stored ${server.rawDocuments().length}; flush ${elapsed.toFixed(0)} ms`)
    t.deepEqual(attempts.map(describeAttempt), [first, '200'], 'one failed attempt, then one retry that succeeded')
    const gap = attempts[1] !== undefined ? attempts[1].receivedAt - attempts[0]!.settledAt : NaN
    const slack = stampSlackMs(lag)
    t.true(gap >= minGapMs - slack, `retried ${gap.toFixed(0)} ms after the failed attempt settled, expected >= ${minGapMs} ms (- ${slack.toFixed(0)} ms of event-loop stall)`)
    t.like(stats, { inserted: 1, published: 1, failed: 0, publishFailures: 0, documents: 1 })
    t.deepEqual(server.rawDocuments().map(uidOf), uids, 'stored exactly once')
    assertNothingLost(t, server, uids, stats)
    t.deepEqual(errors, [], 'a retried and then delivered document is no error')
    t.true(elapsed < minGapMs + TIMEOUT_MS + scaled(1500), `flush took ${elapsed.toFixed(0)} ms`)
  })
}

test('HTTP fault: a connection reset after a 200 status line is an acknowledgement: published once, not retried', async (t) => {
  // A Scouter server writes 200 only once the records are inserted; retrying would store the
  // document twice. The status line is the acknowledgement, whatever happens to the body.
  const server = await started(t)
  const { queues, errors, insert } = await llmQueue(t, server, 3)
  server.failNext(faults.reset(200))
  const uids = insert(1)
  const stats = (await queues.flush(FLUSH_MS)).llm!
  t.deepEqual((attemptsByDocument(server).get(uids[0]!) ?? []).map(describeAttempt), ['reset'])
  t.like(stats, { inserted: 1, published: 1, failed: 0, publishFailures: 0, documents: 1, pending: 0 })
  t.deepEqual(server.rawDocuments().map(uidOf), uids, 'stored exactly once')
  t.deepEqual(errors, [])
})

const permanent: Array<[name: string, arrange: (server: ScouterTestServer) => void, status: number]> = [
  ['400 (a malformed document)', (server) => server.failNext({ status: 400, body: '{"status":"error","message":"bad document"}' }), 400],
  ['403 (scripted)', (server) => server.failNext({ status: 403 }), 403],
  ['403 (a space the user may not write to)', (server) => server.allowSpaces(['someone_else']), 403],
]

for (const [name, arrange, status] of permanent) {
  test(`HTTP fault: ${name} is counted once as failed and never retried (maxRetries 3)`, async (t) => {
    const server = await started(t)
    const { queues, errors, insert } = await llmQueue(t, server, 3)
    arrange(server)
    const uids = insert(1)
    const stats = (await queues.flush(FLUSH_MS)).llm!
    t.deepEqual((attemptsByDocument(server).get(uids[0]!) ?? []).map(describeAttempt), [String(status)])
    t.like(stats, { inserted: 1, published: 0, failed: 1, publishFailures: 1, documents: 0, pending: 0 })
    t.deepEqual(server.rawDocuments(), [])
    assertNothingLost(t, server, uids, stats)
    // The report reaches onError on the main thread, possibly just after the flush resolved.
    await new Promise((resolve) => setTimeout(resolve, scaled(50)))
    t.is(errors.length, 1)
    t.true(errors[0] instanceof TransportError)
    t.regex(errors[0]!.message, new RegExp(String(status)))
  })
}

test('HTTP fault: retries stop after exactly maxRetries (3 x 500 with maxRetries 2: 3 attempts, then failed)', async (t) => {
  const server = await started(t)
  const { queues, insert } = await llmQueue(t, server, 2)
  server.failNext({ status: 500 }, { status: 502 }, { status: 503 })
  const uids = insert(1)
  const stats = (await queues.flush(FLUSH_MS)).llm!
  t.deepEqual((attemptsByDocument(server).get(uids[0]!) ?? []).map(describeAttempt), ['500', '502', '503'])
  t.like(stats, { published: 0, failed: 1, publishFailures: 1 })
  t.regex(stats.lastError ?? '', /after 2 retries/)
  assertNothingLost(t, server, uids, stats)
})

// ---------------------------------------------------------------------------------------------
// All faults at once over 20 documents: per-document attempts, Retry-After, nothing lost

test('HTTP faults mixed over 20 documents: only 429/5xx/time-outs/resets are retried, Retry-After is honoured, nothing acknowledged is lost', async (t) => {
  const server = await started(t)
  const { queues, errors, insert } = await llmQueue(t, server, 3)
  // Consumed in order of arrival, by whichever documents arrive first.
  server.failNext(
    { status: 503, retryAfterSeconds: 2 },
    { status: 429 },
    { status: 500 },
    { status: 400 },
    { status: 403 },
    faults.hang(scaled(10_000)),
    faults.reset(200),
  )
  const uids = insert(20)
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  const begin = performance.now()
  const stats = (await queues.flush(FLUSH_MS)).llm!
  const elapsed = performance.now() - begin
  lag.disable()

  const byDoc = attemptsByDocument(server)
  const summary = [...byDoc.values()].map((attempts) => attempts.map(describeAttempt).join('>'))
  t.log(`flush ${elapsed.toFixed(0)} ms; attempts per document: ${summary.join(', ')}`)
  t.log(`stats: published ${stats.published}, failed ${stats.failed}, publishFailures ${stats.publishFailures}; server stored ${server.rawDocuments().length}`)
  t.is(drifts(server).length, 24, '20 first attempts + one retry for each of the 4 retryable faults (a reset after 200 is an acknowledgement)')
  t.deepEqual([...byDoc.keys()].sort(), [...uids].sort(), 'every document reached the server')
  let failedDocs = 0
  for (const [uid, attempts] of byDoc) {
    const last = attempts.at(-1)!
    for (const earlier of attempts.slice(0, -1)) {
      t.true(isRetryable(earlier), `${uid}: retried after a ${describeAttempt(earlier)}, which is not retryable`)
    }
    t.true(isAck(last) || isPermanent(last), `${uid}: ended with ${describeAttempt(last)} (${attempts.map(describeAttempt).join('>')})`)
    if (isPermanent(last)) failedDocs += 1
    for (let i = 1; i < attempts.length; i++) {
      const before = attempts[i - 1]!
      if (before.responseHeaders['retry-after'] === '2') {
        const gap = attempts[i]!.receivedAt - before.settledAt
        t.true(gap >= 2000 - stampSlackMs(lag), `${uid}: retried ${gap.toFixed(0)} ms after a 503 with Retry-After: 2`)
      }
    }
  }
  t.is(failedDocs, 2)
  t.like(stats, { inserted: 20, published: 18, failed: 2, publishFailures: 2, documents: 18, pending: 0 })
  assertNothingLost(t, server, uids, stats)
  await new Promise((resolve) => setTimeout(resolve, scaled(50)))
  t.is(errors.length, 2, errors.map((e) => e.message).join(' | '))
})

// ---------------------------------------------------------------------------------------------
// Confirmations overlap

test('HTTP: confirmations overlap: 20 one-record documents against a server answering after 200 ms take well under 20 x 200 ms', async (t) => {
  const server = await started(t)
  const { queues, insert } = await llmQueue(t, server, 0)
  // Log in first, so that the measurement is of the POSTs alone.
  insert(1)
  await queues.flush(FLUSH_MS)
  const delay = scaled(200)
  server.setResponseDelayMs(delay)
  const uids = insert(20)
  const begin = performance.now()
  const stats = (await queues.flush(FLUSH_MS)).llm!
  const elapsed = performance.now() - begin
  t.log(`20 documents in ${elapsed.toFixed(0)} ms; at most ${server.maxConcurrentPosts()} POSTs open at once`)
  t.like(stats, { inserted: 21, published: 21, failed: 0, pending: 0 })
  t.true(server.maxConcurrentPosts() > 1, `the server never saw more than ${server.maxConcurrentPosts()} POST open at once`)
  t.true(elapsed < 10 * delay, `20 documents took ${elapsed.toFixed(0)} ms (serialized: 20 x ${delay} = ${20 * delay} ms)`)
  for (const uid of uids) t.true(server.rawDocuments().map(uidOf).includes(uid))
})
