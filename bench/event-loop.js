// Event-loop delay while inserting at a steady 100k items/s, side by side in one run:
//   baseline        the same pacing, rows built and thrown away: what the timer itself costs
//   scouter-queue   PSI queue of ten features, KafkaConfig
//   hand-rolled     JS binning + kafkajs (bench/hand-rolled.js)
// A 1 ms interval timer inserts the rows owed since the start, so the rate holds whatever the
// timer's jitter. `perf_hooks.monitorEventLoopDelay` (1 ms resolution) samples throughout; its
// histogram holds whole timer intervals, so the delay reported is each value minus the 1 ms.
// Needs the broker on 127.0.0.1:9092. Writes bench/results/event-loop.*.
//
//   node bench/event-loop.js [itemsPerSecond=100000] [seconds=10]
'use strict'

const { randomUUID } = require('node:crypto')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { Kafka, logLevel } = require('kafkajs')
const { ScouterQueue, Features, KafkaConfig } = require('scouter-queue')
const { benchProfiles, benchRow } = require('./profiles')
const { writeResults } = require('./results')
const { HandRolledPsi } = require('./hand-rolled')

const RATE = Number(process.argv[2] ?? 100_000)
const SECONDS = Number(process.argv[3] ?? 10)
const WARMUP_SECONDS = 1
const BROKERS = '127.0.0.1:9092'
const RESOLUTION_MS = 1
const kafka = new Kafka({ clientId: 'scouter-bench', brokers: [BROKERS], logLevel: logLevel.NOTHING })

/** Calls `insert(i)` at RATE per second for `seconds`; resolves with the rows inserted. */
function paced(insert, seconds) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint()
    const total = Math.round(RATE * seconds)
    let sent = 0
    const timer = setInterval(() => {
      const elapsed = Number(process.hrtime.bigint() - start) / 1e9
      const owed = Math.min(total, Math.floor(elapsed * RATE))
      for (; sent < owed; sent++) insert(sent)
      if (sent === total) {
        clearInterval(timer)
        resolve({ rows: sent, seconds: Number(process.hrtime.bigint() - start) / 1e9 })
      }
    }, 1)
  })
}

/** Runs `pipeline` for the warm-up, then measures the delay while it runs for SECONDS. */
async function measure(pipeline) {
  await paced(pipeline.insert, WARMUP_SECONDS)
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  histogram.enable()
  const run = await paced(pipeline.insert, SECONDS)
  histogram.disable()
  const settled = await pipeline.finish()
  const delayMs = (p) => Math.max(0, histogram.percentile(p) / 1e6 - RESOLUTION_MS)
  return {
    itemsPerSecond: run.rows / run.seconds,
    p50Ms: delayMs(50),
    p99Ms: delayMs(99),
    maxMs: Math.max(0, histogram.max / 1e6 - RESOLUTION_MS),
    samples: histogram.count,
    settled,
  }
}

async function baseline() {
  let sink = []
  return {
    insert: (i) => {
      if (sink.length === 512) sink = []
      sink.push(benchRow(i))
    },
    finish: async () => 'n/a',
  }
}

async function scouterQueue(profile) {
  const queues = await ScouterQueue.fromPath({ psi: profile }, new KafkaConfig({ brokers: BROKERS, topic: `bench_${randomUUID().slice(0, 8)}` }))
  const psi = queues.get('psi')
  return {
    insert: (i) => psi.insert(Features.fromObject(benchRow(i))),
    finish: async () => {
      const { psi: s } = await queues.shutdown()
      return `inserted ${s.inserted}, published ${s.published}, dropped ${s.dropped}, failed ${s.failed}, pending ${s.pending}`
    },
  }
}

async function handRolled(profile) {
  const pipeline = await HandRolledPsi.connect(kafka, profile, `bench_${randomUUID().slice(0, 8)}`)
  return {
    insert: (i) => pipeline.insert(benchRow(i)),
    finish: async () => {
      await pipeline.close()
      return 'every send resolved'
    },
  }
}

async function main() {
  const { psi } = benchProfiles()
  const results = []
  for (const [name, make] of [
    ['baseline: rows built and thrown away, same pacing', baseline],
    ['scouter-queue (PSI, Kafka)', scouterQueue],
    ['hand-rolled Node pipeline (JS binning + kafkajs)', handRolled],
  ]) {
    try {
      results.push({ name, ...(await measure(await make(psi))) })
    } catch (error) {
      results.push({ name, error: String(error.message ?? error).split('\n')[0] })
    }
  }
  const ours = results[1]
  const ms = (x) => x.toFixed(3)
  const lines = [
    `Event-loop delay while inserting ${RATE.toLocaleString('en')} PSI rows/s for ${SECONDS} s (after ${WARMUP_SECONDS} s of warm-up): monitorEventLoopDelay at ${RESOLUTION_MS} ms resolution, minus the resolution. node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| pipeline | items/s | p50 ms | p99 ms | max ms | samples | settled |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...results.map((r) =>
      r.error
        ? `| ${r.name} | error: ${r.error} | | | | | |`
        : `| ${r.name} | ${Math.round(r.itemsPerSecond).toLocaleString('en')} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ms(r.maxMs)} | ${r.samples} | ${r.settled} |`,
    ),
    '',
    '| target | result |',
    '| --- | --- |',
    `| event-loop delay p99 <= 2 ms at ${RATE.toLocaleString('en')} inserts/s | ${ours.error ? 'n/a' : ours.p99Ms <= 2 ? 'pass' : 'miss'} |`,
  ]
  console.log(lines.join('\n'))
  writeResults('event-loop', { rate: RATE, seconds: SECONDS, results }, lines)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
