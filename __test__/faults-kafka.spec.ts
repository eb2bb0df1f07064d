/**
 * Kafka under a hard crash: the broker is SIGKILLed mid-stream (no clean shutdown, no flush) and
 * started again at once, while the application keeps inserting. Every item carries an id (an
 * LLM record with `context.id`, sample_rate 1: one record per document), so loss and
 * duplication are counted exactly by reading the whole topic back.
 *
 * Why 0 lost and none twice is provable here: a delivery report means the single broker
 * appended the batch to its log (acks=all, which idempotence implies); SIGKILL loses the process,
 * not the page cache, and the log is recovered on restart. Messages not yet acknowledged stay in
 * librdkafka (message.timeout.ms 600 s) and are retried with their producer id and sequence
 * numbers, which the restarted broker rebuilds from its log, so a retry of a batch that was
 * appended but not acknowledged is deduplicated instead of written twice.
 *
 * Takes the fault lock (helpers/faults.ts) and always brings the broker back.
 */
import test from 'ava'

import { KafkaConfig, LLMRecord, ScouterQueue, type ScouterQueueError } from '../ts/index'
import { uniqueName } from './helpers/brokers'
import { profiles } from './helpers/fixtures'
import { readTopic } from './helpers/kafka-topic'
import {
  duplicates, faultLock, killBroker, llmIds, missing, paced, range, recoverBroker, recoverOnExit, sleep, spans, until, upBroker,
} from './helpers/faults'

const BROKERS = '127.0.0.1:9092'

test('Kafka: SIGKILL mid-stream and restart: every id delivered exactly once, published == inserted, failed 0', async (t) => {
  t.timeout(240_000)
  t.teardown(await faultLock())
  recoverOnExit('kafka')
  t.teardown(() => recoverBroker('kafka'))
  await upBroker('kafka')

  const topic = uniqueName('faults_kafka')
  const errors: Array<[string, string]> = []
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, new KafkaConfig({ brokers: BROKERS, topic }), {
    onError: (error: ScouterQueueError, alias: string) => errors.push([alias, error.message]),
  })
  const llm = queues.get('llm')
  const insert = (id: number) => llm.insert(new LLMRecord({ context: { id } }))

  // id 0 first and flushed: the topic exists and the producer has its id before the fault.
  insert(0)
  t.like((await queues.flush()).llm, { published: 1, failed: 0 })

  // 250 ids/s; SIGKILL after 2 s, start again at once (KRaft makes a broker that crashed wait for
  // its old registration to expire, broker.session.timeout.ms = 9 s, before it serves again);
  // keep inserting for at least 8 s and until 1 s after the broker serves again.
  const started = Date.now()
  let next = 1 // the next id to insert
  const marks = { killedAt: 0, idAtKill: 0, servingAt: 0, idAtServing: 0, publishedAtKill: 0, confirmedAgainAt: 0 }
  const fault = (async () => {
    await sleep(2_000)
    await killBroker('kafka')
    marks.killedAt = Date.now() - started
    marks.idAtKill = next
    await sleep(300)
    marks.publishedAtKill = queues.stats().llm!.published
    await upBroker('kafka')
    marks.servingAt = Date.now() - started
    marks.idAtServing = next
  })()
  // When the producer has a delivery report again after the restart (for the report only).
  const confirmedAgain = fault.then(async () => {
    await until('a delivery report after the restart', () => queues.stats().llm!.published > marks.publishedAtKill, 60_000)
    marks.confirmedAgainAt = Date.now() - started
  })
  let faultError: unknown
  fault.catch((error) => (faultError = error))
  const streamed = await paced(250, (n) => {
    insert(n + 1)
    next = n + 2
  }, () => {
    return faultError !== undefined || (Date.now() - started >= 8_000 && marks.servingAt > 0 && Date.now() - started >= marks.servingAt + 1_000)
  })
  await fault
  const N = 1 + streamed
  await confirmedAgain.catch(() => {})

  const shutdownStarted = Date.now()
  const stats = (await queues.shutdown(60_000)).llm!
  const shutdownMs = Date.now() - shutdownStarted

  const { documents, highWatermark } = await readTopic(BROKERS, topic)
  const ids = documents.flatMap(llmIds)
  const dup = duplicates(ids)
  const lost = missing(N, ids)
  const inOrder = ids.every((id, i) => id === i)
  t.log(
    `N=${N} killed at ${marks.killedAt} ms (id ${marks.idAtKill}), serving again at ${marks.servingAt} ms (id ${marks.idAtServing}),` +
      ` first delivery report after it at ${marks.confirmedAgainAt} ms,` +
      ` shutdown ${shutdownMs} ms; topic has ${highWatermark} messages, ${ids.length} ids, lost ${lost.length}, duplicated ${dup.size},` +
      ` in order: ${inOrder}; onError: ${errors.length} (${[...new Set(errors.map(([alias, m]) => `${alias}: ${m.slice(0, 90)}`))].slice(0, 3).join(' | ')})`,
  )

  t.like(stats, { inserted: N, sampledOut: 0, dropped: 0, pending: 0, published: N, failed: 0, documents: N, records: N, publishFailures: 0 })
  t.deepEqual(lost, [], `lost ids: ${spans(lost)}`)
  t.deepEqual([...dup.keys()], [], `duplicated ids: ${spans([...dup.keys()])}`)
  t.is(highWatermark, N, 'the log holds exactly one message per id (no duplicate at the broker either)')
  t.deepEqual([...ids].sort((a, b) => a - b), range(N))
  t.deepEqual(errors.filter(([alias]) => alias === 'llm'), [], 'no publish of the queue failed')
  t.true(marks.idAtServing < N, 'ids were inserted after the broker served again')
})
