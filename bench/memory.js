// Memory under volume: RSS before, during and after 5 million inserts into a PSI queue with the
// default bound (`maxPendingItems` 100 000), each scenario in a fresh process:
//   paced     broker up, 1 million rows/s (within what the pipeline sustains): nothing dropped
//   burst     broker up, as fast as the caller can insert, yielding every 10 000 rows: the bound
//             engages and what it refuses is counted as dropped
//   down      no broker listening at the configured address (as when it is stopped): the bound
//             holds, everything is counted as dropped or, at shutdown's deadline, failed
// Before the clock starts, one row is published so that the topic exists (it counts in the
// stats). The bound must hold whatever the volume: RSS after 5M inserts must not exceed RSS after 1M by
// more than 32 MB (unbounded, 4M more rows would take hundreds of MB), and after `shutdown()`
// `stats()` must account for every item. Writes bench/results/memory.*.
//
//   node bench/memory.js [rows=5000000]
'use strict'

const { execFileSync } = require('node:child_process')
const { randomUUID } = require('node:crypto')
const { createServer } = require('node:net')
const { setImmediate: yieldToLoop } = require('node:timers/promises')
const { writeResults } = require('./results')

const ROWS = Number(process.argv[2] ?? 5_000_000)
const GROWTH_LIMIT_MB = 32
const mb = (bytes) => bytes / 2 ** 20

/** One scenario, run in this process: prints its result as JSON. */
async function scenario(name, rows) {
  const { ScouterQueue, Features, KafkaConfig } = require('scouter-queue')
  const { benchProfiles, benchRow } = require('./profiles')
  const brokers = name === 'down' ? `127.0.0.1:${await freePort()}` : '127.0.0.1:9092'
  const queues = await ScouterQueue.fromPath({ psi: benchProfiles().psi }, new KafkaConfig({ brokers, topic: `bench_${randomUUID().slice(0, 8)}` }), { onError: () => {} })
  const psi = queues.get('psi')
  if (name !== 'down') {
    // Steady state: the topic exists and the producer is connected before the clock starts.
    psi.insert(Features.fromObject(benchRow(0)))
    await queues.flush()
  }
  global.gc?.()
  const rss = { before: mb(process.memoryUsage.rss()), peak: 0, at1M: null, after: null, afterShutdown: null }
  const sample = () => (rss.peak = Math.max(rss.peak, mb(process.memoryUsage.rss())))
  const started = process.hrtime.bigint()
  const CHUNK = 10_000
  for (let sent = 0; sent < rows; ) {
    if (name === 'paced') {
      // 1M rows/s: wait until the clock says the next chunk is due.
      const due = (sent / 1e6) * 1e9
      while (Number(process.hrtime.bigint() - started) < due) await new Promise((resolve) => setTimeout(resolve, 1))
    }
    for (const end = Math.min(rows, sent + CHUNK); sent < end; sent++) psi.insert(Features.fromObject(benchRow(sent)))
    sample()
    if (sent === 1_000_000) rss.at1M = mb(process.memoryUsage.rss())
    await yieldToLoop()
  }
  const insertSeconds = Number(process.hrtime.bigint() - started) / 1e9
  rss.after = mb(process.memoryUsage.rss())
  const stats = (await queues.shutdown(name === 'down' ? 5_000 : undefined)).psi
  rss.afterShutdown = mb(process.memoryUsage.rss())
  const { inserted, published, dropped, failed, pending, sampledOut } = stats
  console.log(JSON.stringify({ name, rows, insertSeconds, rss, stats: { inserted, published, dropped, failed, pending, sampledOut } }))
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function main() {
  const results = ['paced', 'burst', 'down'].map((name) => {
    try {
      const out = execFileSync(process.execPath, ['--expose-gc', __filename, '--scenario', name, String(ROWS)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      return JSON.parse(out.trim().split('\n').pop())
    } catch (error) {
      return { name, error: String(error.message ?? error).split('\n')[0] }
    }
  })
  const ok = (r) => {
    if (r.error || r.rss.at1M === null) return false
    const s = r.stats
    const balanced = s.inserted === r.rows + (r.name === 'down' ? 0 : 1) && s.inserted === s.sampledOut + s.dropped + s.pending + s.published + s.failed && s.pending === 0
    return balanced && r.rss.after - r.rss.at1M <= GROWTH_LIMIT_MB
  }
  const describe = {
    paced: 'broker up, paced at 1M rows/s',
    burst: 'broker up, as fast as possible',
    down: 'no broker listening (stopped)',
  }
  const f = (x) => x.toFixed(0)
  const lines = [
    `Memory: ${ROWS.toLocaleString('en')} inserts into a PSI queue (Kafka transport, maxPendingItems 100 000), each scenario in a fresh process; RSS in MB. node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| scenario | seconds | RSS before | after 1M | after all | peak | after shutdown | inserted | published | dropped | failed | pending | bound holds, all counted |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...results.map((r) =>
      r.error
        ? `| ${describe[r.name]} | error: ${r.error} | | | | | | | | | | | miss |`
        : `| ${describe[r.name]} | ${r.insertSeconds.toFixed(1)} | ${f(r.rss.before)} | ${f(r.rss.at1M)} | ${f(r.rss.after)} | ${f(r.rss.peak)} | ${f(r.rss.afterShutdown)} | ${r.stats.inserted} | ${r.stats.published} | ${r.stats.dropped} | ${r.stats.failed} | ${r.stats.pending} | ${ok(r) ? 'yes' : 'no'} |`,
    ),
    '',
    '| target | result |',
    '| --- | --- |',
    `| RSS growth bounded by the configured limits, whatever the input volume (after all <= after 1M + ${GROWTH_LIMIT_MB} MB; stats balanced, pending 0) | ${results.every(ok) ? 'pass' : 'miss'} |`,
  ]
  console.log(lines.join('\n'))
  writeResults('memory', { rows: ROWS, growthLimitMb: GROWTH_LIMIT_MB, results }, lines)
}

if (process.argv[2] === '--scenario') {
  scenario(process.argv[3], Number(process.argv[4])).catch((error) => {
    console.error(error)
    process.exit(1)
  })
} else {
  main()
}
