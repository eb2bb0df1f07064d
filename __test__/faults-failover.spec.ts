/**
 * Failover under a hard crash: a chain [Kafka, File], the Kafka broker SIGKILLed mid-stream
 * while the application keeps inserting, then started again. Every item carries an id (an LLM
 * record with `context.id`, sample_rate 1: one record per document), so where each one went is
 * counted exactly by reading the whole topic and the whole file back.
 *
 * What must hold, and why:
 * - Every id is in the topic or in the file: a document goes to the file only once Kafka failed
 *   it or was given up on, and the file confirms everything it is given (`failed` 0).
 * - No id is twice in the topic (one produce per document, idempotent producer) nor twice in the
 *   file (the file is the last member: a document reaches it at most once).
 * - An id is in both only inside the at-least-once window: Kafka failed its document *in doubt*
 *   and the file then confirmed it. In doubt means the document was handed on after
 *   `failureTimeoutMs` without a delivery report (librdkafka still holds it, for
 *   `messageTimeoutMs`, ten minutes by default, and delivers it once the broker is back), or
 *   librdkafka reported it timed out after it was sent (the broker may have appended it before
 *   the kill). Kafka counts those in `transports[0].inDoubt`, so `ids in both <= inDoubt` is the
 *   exact bound.
 * - Per transport: the file holds exactly `file.published` ids; the topic holds exactly
 *   `kafka.published` ids plus the in-doubt ones it kept; `kafka.published + file.published`
 *   is the number of documents.
 * - After the restart a probe succeeds, the breaker closes, and every id inserted after that
 *   event is in the topic only.
 *
 * Kafka keeps its default settings: failover does not depend on librdkafka giving up. The
 * breaker opens, and hung documents move to the file, `failureTimeoutMs` (1 s) after the kill;
 * while Kafka is down, a probe every `probeIntervalMs` (2 s) hangs for 1 s and moves on.
 *
 * Takes the fault lock (helpers/faults.ts) and always brings the broker back.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'

import { FileConfig, KafkaConfig, LLMRecord, ScouterQueue, type ScouterQueueError, type TransportStateEvent, type ServerRecords } from '../ts/index'
import { uniqueName } from './helpers/brokers'
import { profiles, tempDir } from './helpers/fixtures'
import { readTopic } from './helpers/kafka-topic'
import {
  duplicates, faultLock, killBroker, llmIds, missing, paced, recoverBroker, recoverOnExit, sleep, spans, until, upBroker,
} from './helpers/faults'

const BROKERS = '127.0.0.1:9092'
const FAILURE_TIMEOUT_MS = 1_000
const PROBE_INTERVAL_MS = 2_000

/** The ids of every line of a JSON-lines file of documents. */
function fileIds(path: string): number[] {
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line !== '')
  return lines.flatMap((line) => llmIds(JSON.parse(line) as ServerRecords))
}

test('Failover [Kafka, File]: Kafka SIGKILLed mid-stream, then restarted: every id in the topic or the file, twice only in doubt, traffic fails back, stats exact', async (t) => {
  t.timeout(240_000)
  t.teardown(await faultLock())
  recoverOnExit('kafka')
  t.teardown(() => recoverBroker('kafka'))
  await upBroker('kafka')

  const topic = uniqueName('faults_failover')
  const path = join(tempDir(), 'fallback.jsonl')
  let started = Date.now()
  let next = 0 // the next id to insert
  const events: Array<{ event: TransportStateEvent; atMs: number; nextId: number }> = []
  const errors: Array<[string, string]> = []
  const queues = await ScouterQueue.fromPath(
    { llm: profiles.llm },
    [new KafkaConfig({ brokers: BROKERS, topic }), new FileConfig({ path })],
    {
      failureTimeoutMs: FAILURE_TIMEOUT_MS,
      probeIntervalMs: PROBE_INTERVAL_MS,
      onEvent: (event) => void (event.type === 'transport-state' && events.push({ event, atMs: Date.now() - started, nextId: next })),
      onError: (error: ScouterQueueError, alias: string) => errors.push([alias, error.message]),
    },
  )
  const llm = queues.get('llm')
  const insert = (id: number) => llm.insert(new LLMRecord({ context: { id } }))
  const transports = () => queues.stats().llm!.transports
  const closedAgain = () => events.find(({ event }) => event.to === 'closed')

  // id 0 first and flushed: the topic exists and the producer has its id before the fault.
  insert(0)
  next = 1
  t.like((await queues.flush()).llm!.transports[0], { name: 'kafka', state: 'closed', published: 1 })

  // 250 ids/s; SIGKILL after 2 s; once the file has confirmed documents, start Kafka again; keep
  // inserting until 3 s after the breaker closed again.
  started = Date.now()
  const marks = {
    killedAt: 0, idAtKill: 0, fileAt: 0, idAtFile: 0, servingAt: 0, idAtServing: 0, kafkaAgainAt: 0, publishedAtServing: 0,
  }
  const fault = (async () => {
    await sleep(2_000)
    await killBroker('kafka')
    marks.killedAt = Date.now() - started
    marks.idAtKill = next
    await until('a document confirmed by the file', () => transports()[1]!.published > 0, 60_000)
    marks.fileAt = Date.now() - started
    marks.idAtFile = next
    await upBroker('kafka')
    marks.servingAt = Date.now() - started
    marks.idAtServing = next
    marks.publishedAtServing = transports()[0]!.published
    await until('a Kafka delivery report after the restart', () => transports()[0]!.published > marks.publishedAtServing, 90_000)
    marks.kafkaAgainAt = Date.now() - started
    await until('the breaker closed again', () => closedAgain() !== undefined, 60_000)
  })()
  let faultError: unknown
  fault.catch((error) => (faultError = error))
  const streamed = await paced(
    250,
    (n) => {
      insert(n + 1)
      next = n + 2
    },
    () => {
      if (faultError !== undefined) return true
      const closed = closedAgain()
      return closed !== undefined && Date.now() - started >= closed.atMs + 3_000
    },
  )
  await fault
  const N = 1 + streamed

  const shutdownStarted = Date.now()
  const stats = (await queues.shutdown(60_000)).llm!
  const shutdownMs = Date.now() - shutdownStarted
  const kafka = stats.transports[0]!
  const file = stats.transports[1]!

  const { documents, highWatermark } = await readTopic(BROKERS, topic)
  const inTopic = documents.flatMap(llmIds)
  const inFile = fileIds(path)
  const topicSet = new Set(inTopic)
  const both = inFile.filter((id) => topicSet.has(id))
  const lost = missing(N, [...inTopic, ...inFile])
  const switches = events.map(({ event, atMs }) => `${event.index} ${event.from}->${event.to} @${atMs}`)
  const opened = events.find(({ event }) => event.to === 'open')
  const closed = closedAgain()
  t.log(
    `N=${N}; killed at ${marks.killedAt} ms (id ${marks.idAtKill}), breaker open at ${opened?.atMs} ms, first file confirmation at ${marks.fileAt} ms` +
      ` (${marks.fileAt - marks.killedAt} ms after the kill, id ${marks.idAtFile}); Kafka serving again at ${marks.servingAt} ms (id ${marks.idAtServing}),` +
      ` first Kafka delivery report after it at ${marks.kafkaAgainAt} ms, closed again at ${closed?.atMs} ms (${(closed?.atMs ?? 0) - marks.servingAt} ms after serving, id ${closed?.nextId});` +
      ` shutdown ${shutdownMs} ms`,
  )
  t.log(`switches: ${switches.join(', ')}`)
  t.log(
    `kafka: published ${kafka.published}, failed ${kafka.failed}, in doubt ${kafka.inDoubt}; file: published ${file.published}, failed ${file.failed};` +
      ` topic ${highWatermark} messages / ${inTopic.length} ids, file ${inFile.length} ids, in both ${both.length} (${spans(both)});` +
      ` onError: ${errors.length} (${[...new Set(errors.map(([alias, m]) => `${alias}: ${m.slice(0, 90)}`))].slice(0, 3).join(' | ')})`,
  )

  // The queue: everything published, nothing failed.
  t.like(stats, { inserted: N, sampledOut: 0, dropped: 0, pending: 0, published: N, failed: 0, documents: N, publishFailures: 0 })
  t.deepEqual(errors.filter(([alias]) => alias === 'llm'), [], 'no document of the queue was lost')
  // Every id somewhere; none twice in one place; twice across both only in doubt.
  t.deepEqual(lost, [], `lost ids: ${spans(lost)}`)
  t.deepEqual([...duplicates(inTopic).keys()], [], 'no id twice in the topic')
  t.deepEqual([...duplicates(inFile).keys()], [], 'no id twice in the file')
  t.true(both.length <= kafka.inDoubt, `${both.length} ids in both places, but only ${kafka.inDoubt} documents failed in doubt`)
  t.true(kafka.inDoubt <= kafka.failed)
  // Per transport, exact.
  t.is(kafka.published + file.published, N, 'each document confirmed by exactly one transport')
  t.is(inFile.length, file.published, 'the file holds exactly what it confirmed')
  t.is(inTopic.length, kafka.published + both.length, 'the topic holds what Kafka confirmed plus the in-doubt documents it kept')
  t.is(highWatermark, inTopic.length)
  t.is(file.failed, 0)
  t.like(kafka, { name: 'kafka', state: 'closed' })
  t.like(file, { name: 'file', state: 'closed', lastSwitchAt: null })
  // Traffic moved to the file while Kafka was down, and came back.
  t.true(kafka.failed > 0 && file.published > 0)
  t.true(
    inFile.some((id) => id >= marks.idAtKill && !topicSet.has(id)),
    'ids inserted while Kafka was down went to the file only',
  )
  t.truthy(opened && closed, `switches: ${switches.join(', ')}`)
  t.is(events[0]!.event.from, 'closed')
  t.is(events[0]!.event.to, 'open')
  t.is(events.at(-1)!.event.to, 'closed', 'the last switch is the fail-back')
  t.true(events.every(({ event }, i) => event.index === 0 && event.transport === 'kafka' && (i === 0 || event.from === events[i - 1]!.event.to)))
  const fileSet = new Set(inFile)
  const afterFailBack = Array.from({ length: N - closed!.nextId }, (_, i) => closed!.nextId + i)
  t.true(afterFailBack.length > 0)
  t.deepEqual(afterFailBack.filter((id) => fileSet.has(id) || !topicSet.has(id)), [], 'ids inserted after the fail-back are in the topic only')
})
