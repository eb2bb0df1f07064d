// Insert cost on the caller's thread, measured side by side in one run:
//   floor     build a plain object of ten numbers and push it into a JS array (the array is
//             emptied every 512 rows, as a batching pipeline would, so the floor measures the
//             work and not the garbage collector walking a million live objects)
//   builders  build new Features([Feature.float(...) x 10]) and insert it into a PSI queue
//   object    Features.fromObject({...ten numbers}) and insert it into a PSI queue
// Prints the median ns per row over several rounds, and the ratio to the floor.
//
//   node bench/insert.js [rowsPerRound=1000000] [rounds=7]
'use strict'

const { mkdtempSync, readFileSync, writeFileSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { ScouterQueue, Feature, Features, MockConfig } = require('scouter-queue')

const ROWS = Number(process.argv[2] ?? 1_000_000)
const ROUNDS = Number(process.argv[3] ?? 7)
const NAMES = Array.from({ length: 10 }, (_, i) => `feature_${i}`)

/** A PSI profile monitoring ten numeric features, made from the fixture's bins. */
function tenFeatureProfile() {
  const fixture = JSON.parse(readFileSync(join(__dirname, '..', '__test__', 'fixtures', 'psi_profile.json'), 'utf8'))
  const bins = fixture.features.feature_0
  fixture.features = Object.fromEntries(NAMES.map((name) => [name, { ...bins, id: name }]))
  fixture.config.alert_config.features_to_monitor = NAMES
  fixture.config.feature_map = { features: {} }
  const path = join(mkdtempSync(join(tmpdir(), 'scouter-bench-')), 'psi10.json')
  writeFileSync(path, JSON.stringify(fixture))
  return path
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** ns per row of `body(i)` over ROWS rows, median of ROUNDS rounds (after one warm-up round). */
function measure(body, between) {
  const results = []
  for (let round = 0; round <= ROUNDS; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < ROWS; i++) body(i)
    const ns = Number(process.hrtime.bigint() - start) / ROWS
    if (round > 0) results.push(ns)
    between?.()
  }
  return median(results)
}

async function main() {
  const values = Float64Array.from({ length: 1024 }, (_, i) => (i % 97) / 9.7)
  const v = (i, k) => values[(i + k) & 1023]

  let sink = []
  const floor = measure(
    (i) => {
      if (sink.length === 512) sink = []
      sink.push({ feature_0: v(i, 0), feature_1: v(i, 1), feature_2: v(i, 2), feature_3: v(i, 3), feature_4: v(i, 4), feature_5: v(i, 5), feature_6: v(i, 6), feature_7: v(i, 7), feature_8: v(i, 8), feature_9: v(i, 9) })
    },
    () => (sink = []),
  )

  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ psi: tenFeatureProfile() }, mock, { maxPendingItems: 10_000_000 })
  const psi = queues.get('psi')
  const settle = () => {
    // Between rounds only: let the background publish and forget what the mock kept.
    mock.clear()
  }
  const builders = measure((i) => {
    psi.insert(
      new Features([
        Feature.float('feature_0', v(i, 0)),
        Feature.float('feature_1', v(i, 1)),
        Feature.float('feature_2', v(i, 2)),
        Feature.float('feature_3', v(i, 3)),
        Feature.float('feature_4', v(i, 4)),
        Feature.float('feature_5', v(i, 5)),
        Feature.float('feature_6', v(i, 6)),
        Feature.float('feature_7', v(i, 7)),
        Feature.float('feature_8', v(i, 8)),
        Feature.float('feature_9', v(i, 9)),
      ]),
    )
  }, settle)
  const fromObject = measure((i) => {
    psi.insert(Features.fromObject({ feature_0: v(i, 0), feature_1: v(i, 1), feature_2: v(i, 2), feature_3: v(i, 3), feature_4: v(i, 4), feature_5: v(i, 5), feature_6: v(i, 6), feature_7: v(i, 7), feature_8: v(i, 8), feature_9: v(i, 9) }))
  }, settle)
  const stats = await queues.shutdown()

  const row = (name, ns) => `| ${name.padEnd(58)} | ${ns.toFixed(1).padStart(8)} | ${(ns / floor).toFixed(2).padStart(6)}x |`
  console.log(`insert cost per row, median of ${ROUNDS} rounds of ${ROWS} rows (node ${process.version})`)
  console.log(`| ${'what'.padEnd(58)} | ${'ns/row'.padStart(8)} | ${'ratio'.padStart(7)} |`)
  console.log(`|${'-'.repeat(60)}|${'-'.repeat(10)}|${'-'.repeat(9)}|`)
  console.log(row('floor: plain object of 10 numbers, pushed to a JS array', floor))
  console.log(row('scouter-queue: new Features([Feature.float x10]) + insert', builders))
  console.log(row('scouter-queue: Features.fromObject({10 numbers}) + insert', fromObject))
  const s = stats.psi
  console.log(`accounting: inserted ${s.inserted}, published ${s.published}, dropped ${s.dropped}, failed ${s.failed}, pending ${s.pending}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
