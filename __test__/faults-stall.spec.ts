/**
 * A stalled broker (SIGSTOP: connections stay open, nothing is answered) for 20 s while the
 * application inserts 100 000 PSI rows/s. The hot path must not notice: insert cost stays within
 * 3x of its cost before the stall (a ratio within one run: medians of ns per insert over 100 ms
 * windows), RSS stays bounded, and what does not fit under `maxPendingItems` is dropped and
 * counted exactly (`inserted = sampledOut + dropped + pending + published + failed` at every
 * sample). After SIGCONT every accepted row is delivered: each row carries one `feature_0` value,
 * so the bin counts of `feature_0` over all PSI records in the topic sum to `published`.
 *
 * Takes the fault lock (helpers/faults.ts) and always resumes the broker.
 */
import test from 'ava'
import { Kafka, logLevel } from 'kafkajs'

import { Features, KafkaConfig, ScouterQueue, type ScouterQueueError, type ServerRecords } from '../ts/index'
import { uniqueName } from './helpers/brokers'
import { profiles } from './helpers/fixtures'
import { faultLock, pauseBroker, recoverBroker, recoverOnExit, resumeBroker, sleep, until, upBroker } from './helpers/faults'

const BROKERS = '127.0.0.1:9092'
const RATE = 100_000 // rows per second
const WARM_MS = 4_000 // before the stall; the first second is not measured
const STALL_MS = 20_000
const AFTER_MS = 3_000 // inserting after the resume
const RSS_HEADROOM = 200 * 1024 * 1024

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

/** Sum of `bin_count` per PSI feature over every message of `topic`, and the message count. */
async function psiTotals(topic: string): Promise<{ messages: number; binCounts: Record<string, number> }> {
  const kafka = new Kafka({ clientId: 'scouter-queue-faults', brokers: [BROKERS], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
  const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)
  const consumer = kafka.consumer({ groupId: uniqueName('faults_group') })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    const binCounts: Record<string, number> = {}
    let messages = 0
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages++
        for (const record of (JSON.parse(message.value!.toString('utf8')) as ServerRecords).records) {
          if (!('Psi' in record)) throw new Error('not a PSI record')
          binCounts[record.Psi.feature] = (binCounts[record.Psi.feature] ?? 0) + record.Psi.bin_count
        }
      },
    })
    await until(`${total} messages of ${topic}`, () => messages >= total, 90_000)
    await sleep(500)
    return { messages, binCounts }
  } finally {
    await consumer.disconnect()
  }
}

test('Kafka stalled (SIGSTOP) 20 s under 100k inserts/s: insert cost flat, RSS bounded, drops counted, all accepted rows delivered after SIGCONT', async (t) => {
  t.timeout(240_000)
  t.teardown(await faultLock())
  recoverOnExit('kafka')
  t.teardown(() => recoverBroker('kafka'))
  await upBroker('kafka')

  const topic = uniqueName('faults_stall')
  const errors: Array<[string, string]> = []
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, new KafkaConfig({ brokers: BROKERS, topic }), {
    onError: (error: ScouterQueueError, alias: string) => errors.push([alias, error.message]),
  })
  const psi = queues.get('psi')
  // One row and a flush first: the topic exists and the producer has its id before the stall.
  psi.insert(Features.fromObject({ feature_0: 0.5 }))
  await queues.flush()
  let inserted = 1

  type Phase = 'warm' | 'stall' | 'after'
  let phase: Phase = 'warm'
  const windows: Array<{ phase: Phase; at: number; rows: number; ns: number; rss: number }> = []
  const violations: string[] = []
  let maxPending = 0
  const rssBaseline: number[] = []

  const started = Date.now()
  const fault = (async () => {
    await sleep(WARM_MS)
    await pauseBroker('kafka')
    phase = 'stall'
    const stalledAt = Date.now()
    await sleep(STALL_MS)
    await resumeBroker('kafka') // waits until the broker answers again
    phase = 'after'
    return { stalledAt: stalledAt - started, resumedAt: Date.now() - started }
  })()
  let faultError: unknown
  let marks: { stalledAt: number; resumedAt: number } | undefined
  fault.then((m) => (marks = m), (error) => (faultError = error))

  // Paced inserting: every ~1 ms insert what is due at RATE; time only the insert calls; close a
  // window every 100 ms with a stats sample (the accounting identity must hold at each).
  let window = { rows: 0, ns: 0n, start: Date.now() }
  let resumedPlusAfter = Infinity
  while (faultError === undefined && Date.now() < resumedPlusAfter) {
    const due = Math.floor(((Date.now() - started) * RATE) / 1000) + 1 - inserted
    const rows = Math.min(due, 2_000)
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < rows; i++) psi.insert(Features.fromObject({ feature_0: (inserted + i) % 10 + 0.5 }))
    window.ns += process.hrtime.bigint() - t0
    window.rows += rows
    inserted += rows
    if (Date.now() - window.start >= 100) {
      const s = queues.stats().psi!
      const sum = s.sampledOut + s.dropped + s.pending + s.published + s.failed
      if (s.inserted !== inserted || sum !== s.inserted) {
        violations.push(`at ${Date.now() - started} ms: inserted ${s.inserted} (made ${inserted}), sampledOut+dropped+pending+published+failed = ${sum}`)
      }
      maxPending = Math.max(maxPending, s.pending)
      const rss = process.memoryUsage.rss()
      const at = Date.now() - started
      if (phase === 'warm' && at >= 1_000) rssBaseline.push(rss)
      windows.push({ phase, at, rows: window.rows, ns: Number(window.ns), rss })
      window = { rows: 0, ns: 0n, start: Date.now() }
    }
    if (marks !== undefined && resumedPlusAfter === Infinity) resumedPlusAfter = started + marks.resumedAt + AFTER_MS
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await fault

  const beforeShutdown = queues.stats().psi!
  const shutdownStarted = Date.now()
  const stats = (await queues.shutdown(60_000)).psi!
  const shutdownMs = Date.now() - shutdownStarted
  const { messages, binCounts } = await psiTotals(topic)

  const perInsert = (phase: Phase) =>
    windows.filter((w) => w.phase === phase && w.rows > 0 && (phase !== 'warm' || w.at >= 1_000)).map((w) => w.ns / w.rows)
  const warmNs = median(perInsert('warm'))
  const stallNs = median(perInsert('stall'))
  const baseline = median(rssBaseline)
  const peak = Math.max(...windows.map((w) => w.rss))
  const stallWindows = windows.filter((w) => w.phase === 'stall')
  const stallRate = stallWindows.reduce((sum, w) => sum + w.rows, 0) / (STALL_MS / 1000)
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
  t.log(
    `stalled at ${marks!.stalledAt} ms, resumed (serving) at ${marks!.resumedAt} ms; inserted ${inserted}` +
      ` (${stallRate.toFixed(0)} rows/s during the stall); insert ${warmNs.toFixed(0)} ns before vs ${stallNs.toFixed(0)} ns during` +
      ` (x${(stallNs / warmNs).toFixed(2)}); RSS baseline ${mb(baseline)} MB, peak ${mb(peak)} MB; max pending ${maxPending};` +
      ` before shutdown ${JSON.stringify({ pending: beforeShutdown.pending, published: beforeShutdown.published, dropped: beforeShutdown.dropped })};` +
      ` final published ${stats.published} dropped ${stats.dropped} failed ${stats.failed}, ${stats.documents} documents,` +
      ` shutdown ${shutdownMs} ms; topic: ${messages} messages, feature_0 bin counts ${binCounts.feature_0}; onError ${errors.length}` +
      ` (${[...new Set(errors.map(([alias, m]) => `${alias}: ${m.slice(0, 80)}`))].slice(0, 3).join(' | ')})`,
  )

  t.deepEqual(violations, [], 'the accounting identity held at every sample')
  t.true(stallRate >= RATE * 0.8, `the stall was loaded: ${stallRate.toFixed(0)} rows/s`)
  t.true(stallNs <= 3 * warmNs, `insert cost ${warmNs.toFixed(0)} ns before, ${stallNs.toFixed(0)} ns during the stall`)
  t.true(peak <= baseline + RSS_HEADROOM, `RSS peak ${mb(peak)} MB, baseline ${mb(baseline)} MB`)
  t.true(stats.dropped > 0, 'the stall outlasted the bound: rows were dropped (and counted)')
  t.like(stats, { inserted, sampledOut: 0, pending: 0, failed: 0, publishFailures: 0 })
  t.is(stats.dropped + stats.published, inserted)
  t.is(binCounts.feature_0, stats.published, 'every accepted row is in the topic once')
  t.is(messages, stats.documents, 'one message per document confirmed')
  t.deepEqual(errors.filter(([alias]) => alias === 'psi'), [], 'no publish of the queue failed')
})
