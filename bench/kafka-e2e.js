// End-to-end throughput to Kafka, side by side in one run: items per second from the first
// insert until the pipeline says it is done, with every record consumed back and counted (a
// run that lost anything is reported as such, not as a speed).
//   scouter-queue   PSI queue of ten features, KafkaConfig, flush()
//   hand-rolled     what a team would write without it: the same PSI binning in JS, batched per
//                   1000 rows, produced with kafkajs (gzip), awaiting every send
//   original        scouter-ml 0.9.0 (Python) with its KafkaConfig, shutdown()
// Needs the broker of scripts/services.sh on 127.0.0.1:9092. Writes bench/results/kafka-e2e.*.
//
//   node bench/kafka-e2e.js [rows=1000000]
'use strict'

const { execFileSync } = require('node:child_process')
const { randomUUID } = require('node:crypto')
const { join } = require('node:path')
const { Kafka, logLevel } = require('kafkajs')
const { ScouterQueue, Features, KafkaConfig } = require('scouter-queue')
const { benchProfiles, benchRow, FEATURES } = require('./profiles')
const { writeResults } = require('./results')
const { HandRolledPsi } = require('./hand-rolled')

const ROWS = Number(process.argv[2] ?? 1_000_000)
const BROKERS = '127.0.0.1:9092'
const kafka = new Kafka({ clientId: 'scouter-bench', brokers: [BROKERS], logLevel: logLevel.NOTHING })

/** Sum of PSI bin counts per feature in `topic`, read until `rows` per feature were seen. */
async function countBack(topic, rows, timeoutMs = 300_000) {
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}` })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const counts = Object.fromEntries(FEATURES.map((f) => [f, 0]))
  let done
  const finished = new Promise((resolve) => (done = resolve))
  await consumer.run({
    eachMessage: async ({ message }) => {
      for (const record of JSON.parse(message.value.toString()).records) counts[record.Psi.feature] += record.Psi.bin_count
      if (FEATURES.every((f) => counts[f] >= rows)) done()
    },
  })
  const timer = setTimeout(done, timeoutMs)
  await finished
  clearTimeout(timer)
  await consumer.disconnect()
  return FEATURES.every((f) => counts[f] === rows) ? null : `counted ${JSON.stringify(counts)}, expected ${rows} each`
}

async function scouterQueue(profile, topic) {
  const queues = await ScouterQueue.fromPath({ psi: profile }, new KafkaConfig({ brokers: BROKERS, topic }), { maxPendingItems: ROWS })
  const psi = queues.get('psi')
  const start = process.hrtime.bigint()
  for (let i = 0; i < ROWS; i++) psi.insert(Features.fromObject(benchRow(i)))
  const stats = await queues.flush()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await queues.shutdown()
  return { seconds, dropped: stats.psi.dropped, failed: stats.psi.failed }
}

/** The hand-rolled pipeline (bench/hand-rolled.js): bins computed in JS per row, kafkajs. */
async function handRolled(profile, topic) {
  const pipeline = await HandRolledPsi.connect(kafka, profile, topic)
  const start = process.hrtime.bigint()
  for (let i = 0; i < ROWS; i++) pipeline.insert(benchRow(i))
  await pipeline.flush()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await pipeline.close()
  return { seconds, dropped: 0, failed: 0 }
}

function original(profile, topic) {
  execFileSync('bash', [join(__dirname, 'setup-python.sh')], { stdio: ['ignore', 'inherit', 'inherit'] })
  const out = execFileSync(join(__dirname, '.venv', 'bin', 'python'), [join(__dirname, 'python', 'kafka_e2e.py'), profile, String(ROWS), BROKERS, topic], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return { ...JSON.parse(out.trim().split('\n').pop()), dropped: null, failed: null }
}

async function main() {
  const { psi } = benchProfiles()
  const results = []
  for (const [name, run] of [
    ['scouter-queue (Rust core, librdkafka)', scouterQueue],
    ['hand-rolled Node pipeline (JS binning + kafkajs)', handRolled],
    ['original: scouter-ml 0.9.0 (Python)', original],
  ]) {
    const topic = `bench_${randomUUID().slice(0, 8)}`
    try {
      const r = await run(psi, topic)
      const loss = await countBack(topic, ROWS)
      results.push({ name, ...r, itemsPerSecond: ROWS / r.seconds, loss })
    } catch (error) {
      results.push({ name, error: String(error.message ?? error).split('\n')[0] })
    }
  }
  const ours = results[0]
  const hand = results[1]
  const lines = [
    `End-to-end to Kafka: ${ROWS} PSI rows of 10 features, first insert until done, every record consumed back. node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| pipeline | seconds | items/s | vs scouter-queue | records all consumed |',
    '| --- | ---: | ---: | ---: | --- |',
    ...results.map((r) =>
      r.error
        ? `| ${r.name} | error: ${r.error} | | | |`
        : `| ${r.name} | ${r.seconds.toFixed(2)} | ${Math.round(r.itemsPerSecond).toLocaleString('en')} | ${(r.itemsPerSecond / ours.itemsPerSecond).toFixed(2)}x | ${r.loss ?? 'yes'} |`,
    ),
    '',
    '| target | result |',
    '| --- | --- |',
    `| >= 1 million items/s sustained with zero loss | ${ours.itemsPerSecond >= 1e6 && !ours.loss && !ours.dropped && !ours.failed ? 'pass' : 'miss'} |`,
    `| >= 3x the hand-rolled Node pipeline | ${hand.itemsPerSecond ? (ours.itemsPerSecond >= 3 * hand.itemsPerSecond ? 'pass' : 'miss') : 'n/a'} |`,
  ]
  console.log(lines.join('\n'))
  writeResults('kafka-e2e', { rows: ROWS, results }, lines)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
