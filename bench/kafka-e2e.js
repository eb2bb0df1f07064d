// End-to-end throughput to Kafka in steady state, side by side in one run: each Node pipeline
// connects and delivers a warm-up batch first (librdkafka's idempotent producer takes up to
// 0.5 s to get its producer id, which made 1M-row runs of one commit vary from 1.3M to 3.1M
// rows/s), then items per second are measured from the first insert of ROWS (10 million by
// default: several seconds each) until the pipeline says it is done, with every record consumed
// back and counted (a run that lost anything is reported as such, not as a speed).
//   scouter-queue   PSI queue of ten features, KafkaConfig, flush(); then the same profile in the
//                   0.25 wire format (uid records)
//   hand-rolled     what a team would write without it: the same PSI binning in JS, batched per
//                   1000 rows, produced with kafkajs (gzip), awaiting every send
//   original        scouter-ml 0.9.0 (Python) with its KafkaConfig, shutdown()
// Needs the broker of scripts/services.sh on 127.0.0.1:9092. Writes bench/results/kafka-e2e.*.
//
//   node bench/kafka-e2e.js [rows=10000000] [originalRows=1000000]
'use strict'

const { execFileSync } = require('node:child_process')
const { randomUUID } = require('node:crypto')
const { join } = require('node:path')
const { Kafka, logLevel } = require('kafkajs')
const { ScouterQueue, Features, KafkaConfig } = require('scouter-queue')
const { benchProfiles, benchRow, FEATURES } = require('./profiles')
const { writeResults } = require('./results')
const { HandRolledPsi } = require('./hand-rolled')

const ROWS = Number(process.argv[2] ?? 10_000_000)
/** The original delivers ~0.3M rows/s and loses most of them: 1M rows show it. */
const ORIGINAL_ROWS = Number(process.argv[3] ?? 1_000_000)
/** Rows delivered before timing starts, so the producer is connected and warm. */
const WARMUP_ROWS = 10_000
const BROKERS = '127.0.0.1:9092'
const kafka = new Kafka({ clientId: 'scouter-bench', brokers: [BROKERS], logLevel: logLevel.NOTHING })

/**
 * Sum of PSI bin counts per feature in `topic`, read until `rows` per feature were seen, or
 * until nothing arrived for `idleMs` (a pipeline that lost records never reaches the count).
 */
async function countBack(topic, rows, idleMs = 20_000) {
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}` })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const counts = Object.fromEntries(FEATURES.map((f) => [f, 0]))
  let done
  const finished = new Promise((resolve) => (done = resolve))
  let idle = setTimeout(done, idleMs)
  await consumer.run({
    eachMessage: async ({ message }) => {
      clearTimeout(idle)
      idle = setTimeout(done, idleMs)
      for (const record of JSON.parse(message.value.toString()).records) counts[record.Psi.feature] += record.Psi.bin_count
      if (FEATURES.every((f) => counts[f] >= rows)) done()
    },
  })
  await finished
  clearTimeout(idle)
  await consumer.disconnect()
  return FEATURES.every((f) => counts[f] === rows) ? null : `counted ${JSON.stringify(counts)}, expected ${rows} each`
}

async function scouterQueue(profile, topic) {
  return scouterQueueOf(profile, topic)
}

/** The same pipeline with the profile in the 0.25 format. */
async function scouterQueue025(_, topic) {
  return scouterQueueOf(benchProfiles().psi25, topic)
}

async function scouterQueueOf(profile, topic) {
  // Bounds as large as the run, so that the measure is the pipeline's speed, not the bound's.
  const queues = await ScouterQueue.fromPath({ psi: profile }, new KafkaConfig({ brokers: BROKERS, topic }), {
    maxPendingItems: ROWS + WARMUP_ROWS,
    maxPendingBytes: (ROWS + WARMUP_ROWS) * 100,
    flushTimeoutMs: 600_000,
  })
  const psi = queues.get('psi')
  for (let i = 0; i < WARMUP_ROWS; i++) psi.insert(Features.fromObject(benchRow(i)))
  await queues.flush()
  const start = process.hrtime.bigint()
  for (let i = 0; i < ROWS; i++) psi.insert(Features.fromObject(benchRow(i)))
  const stats = await queues.flush()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await queues.shutdown()
  return { seconds, rows: ROWS, dropped: stats.psi.dropped, failed: stats.psi.failed }
}

/** The hand-rolled pipeline (bench/hand-rolled.js): bins computed in JS per row, kafkajs. */
async function handRolled(profile, topic) {
  const pipeline = await HandRolledPsi.connect(kafka, profile, topic)
  for (let i = 0; i < WARMUP_ROWS; i++) pipeline.insert(benchRow(i))
  await pipeline.flush()
  const start = process.hrtime.bigint()
  for (let i = 0; i < ROWS; i++) pipeline.insert(benchRow(i))
  await pipeline.flush()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await pipeline.close()
  return { seconds, rows: ROWS, dropped: 0, failed: 0 }
}

function original(profile, topic) {
  execFileSync('bash', [join(__dirname, 'setup-python.sh')], { stdio: ['ignore', 'inherit', 'inherit'] })
  const out = execFileSync(join(__dirname, '..', '.venv', 'scouter-0.9.0', 'bin', 'python'), [join(__dirname, 'python', 'kafka_e2e.py'), profile, String(ORIGINAL_ROWS), BROKERS, topic], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return { ...JSON.parse(out.trim().split('\n').pop()), rows: ORIGINAL_ROWS, warm: 0, dropped: null, failed: null }
}

async function main() {
  const { psi } = benchProfiles()
  const results = []
  for (const [name, run] of [
    ['scouter-queue (Rust core, librdkafka)', scouterQueue],
    ['scouter-queue, 0.25 format (uid records)', scouterQueue025],
    ['hand-rolled Node pipeline (JS binning + kafkajs)', handRolled],
    ['original: scouter-ml 0.9.0 (Python)', original],
  ]) {
    const topic = `bench_${randomUUID().slice(0, 8)}`
    try {
      const r = await run(psi, topic)
      const loss = await countBack(topic, r.rows + (r.warm ?? WARMUP_ROWS))
      results.push({ name, ...r, itemsPerSecond: r.rows / r.seconds, loss })
    } catch (error) {
      results.push({ name, error: String(error.message ?? error).split('\n')[0] })
    }
  }
  const ours = results[0]
  const uid = results[1]
  const hand = results[2]
  const lines = [
    `End-to-end to Kafka, steady state: PSI rows of 10 features after a ${WARMUP_ROWS}-row warm-up that connects the producer, first insert until done, every record consumed back. node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| pipeline | rows | seconds | items/s | vs scouter-queue | records all consumed |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...results.map((r) =>
      r.error
        ? `| ${r.name} | | error: ${r.error} | | | |`
        : `| ${r.name} | ${r.rows.toLocaleString('en')} | ${r.seconds.toFixed(2)} | ${Math.round(r.itemsPerSecond).toLocaleString('en')} | ${(r.itemsPerSecond / ours.itemsPerSecond).toFixed(2)}x | ${r.loss ?? 'yes'} |`,
    ),
    '',
    '| target | result |',
    '| --- | --- |',
    `| >= 1 million items/s sustained with zero loss | ${ours.itemsPerSecond >= 1e6 && !ours.loss && !ours.dropped && !ours.failed ? 'pass' : 'miss'} |`,
    `| >= 3x the hand-rolled Node pipeline | ${hand.itemsPerSecond ? (ours.itemsPerSecond >= 3 * hand.itemsPerSecond ? 'pass' : 'miss') : 'n/a'} |`,
    `| 0.25 format within 15 % of v0.9, zero loss | ${uid.itemsPerSecond ? (uid.itemsPerSecond >= 0.85 * ours.itemsPerSecond && !uid.loss ? 'pass' : 'miss') : 'n/a'} |`,
  ]
  console.log(lines.join('\n'))
  writeResults('kafka-e2e', { rows: ROWS, results }, lines)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
