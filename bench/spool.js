// What the write-ahead disk spool costs, end to end to Kafka, side by side in one run: the same
// workload without a spool and with `spoolDir` under each `spoolSync` ('never', 'interval',
// 'always'), rounds interleaved so that machine noise spreads over every mode. Two workloads:
//   PSI rows  10 features, 1000 rows per document: few, small documents (the spool's best case)
//   LLM       one record per document (sample_rate 1): a document, an append, an acknowledgement
//             and (with 'always') an fsync per item (its worst case)
// Items per second are measured from the first insert until flush() resolves, i.e. until Kafka
// confirmed every document (acks=all); a mode that failed or dropped anything is reported so.
// Needs the broker of scripts/services.sh on 127.0.0.1:9092. Writes bench/results/spool.*.
//
//   node bench/spool.js [psiRows=2000000] [llmRecords=50000] [rounds=3]
'use strict'

const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { randomUUID } = require('node:crypto')
const { ScouterQueue, Features, LLMRecord, KafkaConfig } = require('scouter-queue')
const { benchProfiles, benchRow, fixtureProfiles } = require('./profiles')
const { median, writeResults } = require('./results')

const PSI_ROWS = Number(process.argv[2] ?? 2_000_000)
const LLM_RECORDS = Number(process.argv[3] ?? 50_000)
const ROUNDS = Number(process.argv[4] ?? 3)
const BROKERS = '127.0.0.1:9092'
const MODES = ['off', 'never', 'interval', 'always']

const WORKLOADS = {
  psi: {
    items: PSI_ROWS,
    profile: () => benchProfiles().psi,
    insert: (queue, i) => queue.insert(Features.fromObject(benchRow(i))),
  },
  llm: {
    items: LLM_RECORDS,
    profile: () => fixtureProfiles().llm,
    insert: (queue, i) => queue.insert(new LLMRecord({ context: { input: `question ${i}`, response: `answer ${i}` } })),
  },
}

async function run(workload, profile, mode, topic) {
  const dir = mode === 'off' ? undefined : mkdtempSync(join(tmpdir(), 'scouter-bench-spool-'))
  const queues = await ScouterQueue.fromPath({ q: profile }, new KafkaConfig({ brokers: BROKERS, topic }), {
    maxPendingItems: workload.items + 1000,
    maxPendingBytes: (workload.items + 1000) * 1000,
    flushTimeoutMs: 600_000,
    ...(dir === undefined ? {} : { spoolDir: dir, spoolSync: mode }),
  })
  const queue = queues.get('q')
  // Warm-up: the producer connected and its id obtained before timing.
  for (let i = 0; i < 1000; i++) workload.insert(queue, i)
  await queues.flush()
  const start = process.hrtime.bigint()
  for (let i = 0; i < workload.items; i++) workload.insert(queue, i)
  const stats = (await queues.flush()).q
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await queues.shutdown()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  const lost = stats.failed + stats.dropped
  return { itemsPerSecond: workload.items / seconds, lost }
}

async function main() {
  const results = {}
  for (const [name, workload] of Object.entries(WORKLOADS)) {
    const profile = workload.profile()
    const topic = `bench_spool_${randomUUID().slice(0, 8)}`
    const rounds = Object.fromEntries(MODES.map((mode) => [mode, []]))
    let lost = Object.fromEntries(MODES.map((mode) => [mode, 0]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        const r = await run(workload, profile, mode, topic)
        rounds[mode].push(r.itemsPerSecond)
        lost[mode] += r.lost
      }
    }
    results[name] = Object.fromEntries(MODES.map((mode) => [mode, { itemsPerSecond: median(rounds[mode]), rounds: rounds[mode], lost: lost[mode] }]))
  }
  const lines = [
    `The spool's cost, end to end to Kafka (acks=all), median of ${ROUNDS} interleaved rounds: ${PSI_ROWS} PSI rows (1000 per document), ${LLM_RECORDS} LLM records (one per document). node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| workload | spool | items/s | vs no spool | lost |',
    '|---|---|---:|---:|---:|',
  ]
  for (const [name, modes] of Object.entries(results)) {
    const base = modes.off.itemsPerSecond
    for (const mode of MODES) {
      const m = modes[mode]
      const label = mode === 'off' ? 'none' : `spoolSync '${mode}'`
      lines.push(`| ${name} | ${label} | ${Math.round(m.itemsPerSecond).toLocaleString('en-US')} | ${(m.itemsPerSecond / base).toFixed(2)}x | ${m.lost} |`)
    }
  }
  console.log(lines.join('\n'))
  writeResults('spool', { psiRows: PSI_ROWS, llmRecords: LLM_RECORDS, rounds: ROUNDS, results }, lines)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
