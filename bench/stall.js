// A stalled broker while a service keeps inserting: the Kafka broker is frozen with SIGSTOP (its
// connections stay open, nothing is answered, as with a long GC pause or a hung disk) for
// STALL seconds while a PSI queue with the default bounds takes 100 000 rows/s, then SIGCONT.
// Per phase (before, stalled, after) it reports the insert cost on the caller's thread, RSS,
// and the accounting; at the end, every record is consumed back: what the queue counted as
// published must be exactly what arrived, and what it refused must be counted as dropped.
// Needs the broker of scripts/services.sh on 127.0.0.1:9092. Writes bench/results/stall.*.
//
//   node bench/stall.js [stallSeconds=60] [itemsPerSecond=100000]
'use strict'

const { readFileSync } = require('node:fs')
const { randomUUID } = require('node:crypto')
const { join } = require('node:path')
const { Kafka, logLevel } = require('kafkajs')
const { ScouterQueue, Features, KafkaConfig } = require('scouter-queue')
const { benchProfiles, benchRow, FEATURES } = require('./profiles')
const { median, writeResults } = require('./results')

const STALL_SECONDS = Number(process.argv[2] ?? 60)
const RATE = Number(process.argv[3] ?? 100_000)
const CALM_SECONDS = 10
const BROKERS = '127.0.0.1:9092'
const PIDFILE = join(__dirname, '..', '.services', 'kafka', 'kafka.pid')
const mb = (bytes) => bytes / 2 ** 20

function brokerSignal(signal) {
  const pid = Number(readFileSync(PIDFILE, 'utf8').trim())
  process.kill(pid, signal)
}

/**
 * Inserts at RATE rows/s for `seconds` from a 1 ms timer; returns per-100 ms windows of the
 * insert cost (ns per row, time inside `insert` only) and the peak RSS.
 */
function paced(insert, seconds, firstRow) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint()
    const total = Math.round(RATE * seconds)
    let sent = 0
    let windowNs = 0
    let windowRows = 0
    let windowStart = start
    const windows = []
    let peakRss = 0
    const timer = setInterval(() => {
      const now = process.hrtime.bigint()
      const owed = Math.min(total, Math.floor((Number(now - start) / 1e9) * RATE))
      const rows = owed - sent
      const before = process.hrtime.bigint()
      for (; sent < owed; sent++) insert(firstRow + sent)
      windowNs += Number(process.hrtime.bigint() - before)
      windowRows += rows
      if (now - windowStart >= 100_000_000n) {
        peakRss = Math.max(peakRss, mb(process.memoryUsage.rss()))
        windows.push({ nsPerRow: windowRows > 0 ? windowNs / windowRows : 0, rows: windowRows })
        windowNs = 0
        windowRows = 0
        windowStart = now
      }
      if (sent === total) {
        clearInterval(timer)
        resolve({ rows: sent, windows, peakRss })
      }
    }, 1)
  })
}

async function sumBack(topic, expected, idleMs = 20_000) {
  const kafka = new Kafka({ clientId: 'scouter-bench', brokers: [BROKERS], logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}` })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let counted = 0
  let done
  const finished = new Promise((resolve) => (done = resolve))
  let idle = setTimeout(done, idleMs)
  await consumer.run({
    eachMessage: async ({ message }) => {
      clearTimeout(idle)
      idle = setTimeout(done, idleMs)
      for (const record of JSON.parse(message.value.toString()).records) {
        if (record.Psi.feature === FEATURES[0]) counted += record.Psi.bin_count
      }
      if (counted >= expected) done()
    },
  })
  await finished
  clearTimeout(idle)
  await consumer.disconnect()
  return counted
}

async function main() {
  const topic = `bench_stall_${randomUUID().slice(0, 8)}`
  const queues = await ScouterQueue.fromPath({ psi: benchProfiles().psi }, new KafkaConfig({ brokers: BROKERS, topic }), { onError: () => {} })
  const psi = queues.get('psi')
  psi.insert(Features.fromObject(benchRow(0)))
  await queues.flush()
  const insert = (i) => psi.insert(Features.fromObject(benchRow(i)))
  const phases = []
  let row = 1
  const phase = async (name, seconds) => {
    const baseRss = mb(process.memoryUsage.rss())
    const run = await paced(insert, seconds, row)
    row += run.rows
    const s = queues.stats().psi
    phases.push({
      name,
      rows: run.rows,
      nsPerRow: median(run.windows.filter((w) => w.rows > 0).map((w) => w.nsPerRow)),
      rssStart: baseRss,
      rssPeak: run.peakRss,
      stats: { inserted: s.inserted, published: s.published, dropped: s.dropped, pending: s.pending, failed: s.failed },
      balanced: s.inserted === s.sampledOut + s.dropped + s.pending + s.published + s.failed,
    })
  }
  await phase('before: broker up', CALM_SECONDS)
  brokerSignal('SIGSTOP')
  try {
    await phase(`stalled: broker frozen (SIGSTOP) ${STALL_SECONDS} s`, STALL_SECONDS)
  } finally {
    brokerSignal('SIGCONT')
  }
  await phase('after: broker resumed (SIGCONT)', CALM_SECONDS)
  const final = (await queues.shutdown(120_000)).psi
  const arrived = await sumBack(topic, final.published)
  const before = phases[0]
  const stalled = phases[1]
  const lines = [
    `A stalled Kafka broker (SIGSTOP for ${STALL_SECONDS} s) while inserting ${RATE.toLocaleString('en')} PSI rows/s into a queue with the default bounds; ${CALM_SECONDS} s before and after. node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| phase | rows inserted | insert ns/row (median of 100 ms windows) | RSS at start MB | RSS peak MB | published | dropped | pending | failed | balanced |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...phases.map(
      (p) =>
        `| ${p.name} | ${p.rows.toLocaleString('en')} | ${p.nsPerRow.toFixed(0)} | ${p.rssStart.toFixed(0)} | ${p.rssPeak.toFixed(0)} | ${p.stats.published.toLocaleString('en')} | ${p.stats.dropped.toLocaleString('en')} | ${p.stats.pending.toLocaleString('en')} | ${p.stats.failed} | ${p.balanced ? 'yes' : 'NO'} |`,
    ),
    `| after shutdown | | | | | ${final.published.toLocaleString('en')} | ${final.dropped.toLocaleString('en')} | ${final.pending} | ${final.failed} | ${final.inserted === final.sampledOut + final.dropped + final.pending + final.published + final.failed ? 'yes' : 'NO'} |`,
    '',
    `Rows consumed back from the topic (feature_0 bin counts): ${arrived.toLocaleString('en')}; counted published: ${final.published.toLocaleString('en')}.`,
    '',
    '| target | result |',
    '| --- | --- |',
    `| insert cost during the stall within 2x of before | ${stalled.nsPerRow <= 2 * before.nsPerRow ? 'pass' : 'miss'} (${before.nsPerRow.toFixed(0)} -> ${stalled.nsPerRow.toFixed(0)} ns) |`,
    `| RSS bounded: peak during the stall within 64 MB of before | ${stalled.rssPeak <= before.rssPeak + 64 ? 'pass' : 'miss'} (${before.rssPeak.toFixed(0)} -> ${stalled.rssPeak.toFixed(0)} MB) |`,
    `| every item accounted for, every accepted item delivered after SIGCONT | ${arrived === final.published && final.failed === 0 && final.pending === 0 && final.inserted === final.published + final.dropped ? 'pass' : 'miss'} |`,
  ]
  console.log(lines.join('\n'))
  writeResults('stall', { stallSeconds: STALL_SECONDS, rate: RATE, phases, final, arrived }, lines)
}

main().catch((error) => {
  console.error(error)
  try {
    brokerSignal('SIGCONT')
  } catch {}
  process.exit(1)
})
