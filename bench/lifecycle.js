// Start-up and shutdown latency for four profiles (SPC, PSI, Custom, LLM: the scouter-ml 0.9.0
// fixtures) with the Kafka transport, side by side with the Python original. Each run opens the
// four queues; then, three times, inserts one item into each and waits: flush, flush, shutdown.
// The first flush includes librdkafka connecting; the second is one publish round (four
// documents confirmed by the broker); shutdown must take about one publish round too: it is
// bounded by the last publish, not by sleeps. The original has no flush; its shutdown is timed
// after one item per queue.
// Needs the broker on 127.0.0.1:9092. Writes bench/results/lifecycle.*.
//
//   node bench/lifecycle.js [runs=7]
'use strict'

const { execFileSync } = require('node:child_process')
const { randomUUID } = require('node:crypto')
const { join } = require('node:path')
const { ScouterQueue, Features, Metrics, LLMRecord, KafkaConfig } = require('scouter-queue')
const { fixtureProfiles } = require('./profiles')
const { median, writeResults } = require('./results')

const RUNS = Number(process.argv[2] ?? 7)
const PY_RUNS = 3
const BROKERS = '127.0.0.1:9092'
const PROFILES = 4
/** Shutdown may exceed the publish round by this much and still be "bounded by the last publish". */
const SHUTDOWN_SLACK_MS = 50

const msSince = (start) => Number(process.hrtime.bigint() - start) / 1e6

function insertOneEach(queues) {
  queues.get('spc').insert(Features.fromObject({ feature_0: 1, feature_1: 2 }))
  queues.get('psi').insert(Features.fromObject({ feature_0: 1 }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  queues.get('llm').insert(new LLMRecord({ context: { input: 'hi', response: 'hello' } }))
}

async function ours(paths, topic) {
  const runs = []
  for (let run = 0; run < RUNS; run++) {
    let start = process.hrtime.bigint()
    const queues = await ScouterQueue.fromPath(paths, new KafkaConfig({ brokers: BROKERS, topic }))
    const startupMs = msSince(start)
    insertOneEach(queues)
    start = process.hrtime.bigint()
    await queues.flush()
    const firstPublishMs = msSince(start)
    insertOneEach(queues)
    start = process.hrtime.bigint()
    await queues.flush()
    const publishMs = msSince(start)
    insertOneEach(queues)
    start = process.hrtime.bigint()
    const stats = await queues.shutdown()
    const shutdownMs = msSince(start)
    const published = Object.values(stats).reduce((sum, s) => sum + s.published, 0)
    runs.push({ startupMs, firstPublishMs, publishMs, shutdownMs, published })
  }
  return runs
}

function original(paths, topic) {
  try {
    execFileSync('bash', [join(__dirname, 'setup-python.sh')], { stdio: ['ignore', 'inherit', 'inherit'] })
    const args = [join(__dirname, 'python', 'lifecycle.py'), paths.spc, paths.psi, paths.custom, paths.llm, BROKERS, topic, String(PY_RUNS)]
    const out = execFileSync(join(__dirname, '..', '.venv', 'scouter-0.9.0', 'bin', 'python'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    return JSON.parse(out.trim().split('\n').pop())
  } catch (error) {
    return { error: String(error.message ?? error).split('\n')[0] }
  }
}

async function main() {
  const paths = fixtureProfiles()
  const topic = `bench_${randomUUID().slice(0, 8)}`
  // The first publish to a new topic waits for Kafka to create it; do that before measuring.
  const warm = await ScouterQueue.fromPath(paths, new KafkaConfig({ brokers: BROKERS, topic }))
  insertOneEach(warm)
  await warm.shutdown()

  const runs = await ours(paths, topic)
  const py = original(paths, topic)
  const m = {
    startupMs: median(runs.map((r) => r.startupMs)),
    firstPublishMs: median(runs.map((r) => r.firstPublishMs)),
    publishMs: median(runs.map((r) => r.publishMs)),
    shutdownMs: median(runs.map((r) => r.shutdownMs)),
  }
  const pyStartupMs = py.startupSeconds ? median(py.startupSeconds) * 1000 : null
  const pyShutdownMs = py.shutdownSeconds ? median(py.shutdownSeconds) * 1000 : null
  const everyItemPublished = runs.every((r) => r.published === 3 * PROFILES)
  const f = (ms) => (ms == null ? 'n/a' : ms.toFixed(1))
  const lines = [
    `Start-up and shutdown for ${PROFILES} profiles (SPC, PSI, Custom, LLM) with the Kafka transport: medians of ${RUNS} runs (Python: ${PY_RUNS}), ms. node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| implementation | start-up | start-up per profile | first publish round (connects) | publish round (flush) | shutdown (flush + stop) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| scouter-queue | ${f(m.startupMs)} | ${f(m.startupMs / PROFILES)} | ${f(m.firstPublishMs)} | ${f(m.publishMs)} | ${f(m.shutdownMs)} |`,
    `| original: ${py.implementation ?? py.error} | ${f(pyStartupMs)} | ${f(pyStartupMs && pyStartupMs / PROFILES)} | n/a (no flush) | n/a (no flush) | ${f(pyShutdownMs)} |`,
    '',
    `Every item inserted in the measured runs was published and confirmed: ${everyItemPublished ? 'yes' : 'no'}.`,
    '',
    '| target | result |',
    '| --- | --- |',
    `| start-up under 50 ms per profile | ${m.startupMs / PROFILES < 50 ? 'pass' : 'miss'} |`,
    `| shutdown bounded by the last publish, not by sleeps (<= publish round + ${SHUTDOWN_SLACK_MS} ms, every item published) | ${m.shutdownMs <= m.publishMs + SHUTDOWN_SLACK_MS && everyItemPublished ? 'pass' : 'miss'} |`,
  ]
  console.log(lines.join('\n'))
  writeResults('lifecycle', { runs, medians: m, original: py }, lines)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
