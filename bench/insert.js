// Insert cost on the caller's thread, measured side by side in one run (issue: benchmarks):
//   floor         build a plain object of ten numbers and push it into a JS array (emptied every
//                 512 rows, as a batching pipeline would: otherwise the floor measures the garbage
//                 collector walking a million live objects, not the work)
//   scouter-queue new Features([Feature.float x10]) + insert into a PSI queue (and the same
//                 builders alone, to show what eleven objects cost before insert is called); the
//                 same row with Features.fromObject; new Metrics([Metric x3]) + insert into a
//                 Custom queue; the PSI and Custom rows again through the same profiles in the
//                 0.25 wire format (the format must not change the cost of an insert)
//   original      scouter-ml 0.9.0 (Python) doing the same through its MockConfig
// Prints median ns per row over several rounds, the ratios, and each target's pass/miss; writes
// bench/results/insert.json and insert.md.
//
//   node bench/insert.js [rowsPerRound=1000000] [rounds=7]
'use strict'

const { execFileSync } = require('node:child_process')
const { join } = require('node:path')
const { ScouterQueue, Feature, Features, Metric, Metrics, MockConfig } = require('scouter-queue')
const { benchProfiles } = require('./profiles')
const { median, writeResults } = require('./results')

const ROWS = Number(process.argv[2] ?? 1_000_000)
const ROUNDS = Number(process.argv[3] ?? 7)
const PY_ROWS = Math.min(ROWS, 200_000)

/** ns per row of `body(i)`, median of ROUNDS rounds after one warm-up round. */
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

/**
 * ns per row of `a(i)` and of `b(i)`, rounds alternating between them, each round after the
 * queues have caught up (`settle`), so that neither pays for the other's background work.
 */
async function measurePair(a, b, settle) {
  const results = [[], []]
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [k, body] of [a, b].entries()) {
      await settle()
      const start = process.hrtime.bigint()
      for (let i = 0; i < ROWS; i++) body(i)
      const ns = Number(process.hrtime.bigint() - start) / ROWS
      if (round > 0) results[k].push(ns)
    }
  }
  return [median(results[0]), median(results[1])]
}

/** The Python original's numbers, or the reason there are none. */
function python(paths) {
  try {
    execFileSync('bash', [join(__dirname, 'setup-python.sh')], { stdio: ['ignore', 'inherit', 'inherit'] })
    const out = execFileSync(join(__dirname, '..', '.venv', 'scouter-0.9.0', 'bin', 'python'), [join(__dirname, 'python', 'insert.py'), paths.psi, paths.custom, String(PY_ROWS), String(ROUNDS)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    return JSON.parse(out.trim().split('\n').pop())
  } catch (error) {
    return { error: String(error.message ?? error).split('\n')[0] }
  }
}

async function main() {
  const paths = benchProfiles()
  const values = Float64Array.from({ length: 1024 }, (_, i) => (i % 97) / 9.7)
  const v = (i, k) => values[(i + k) & 1023]

  let sink = []
  const floor = measure((i) => {
    if (sink.length === 512) sink = []
    sink.push({ feature_0: v(i, 0), feature_1: v(i, 1), feature_2: v(i, 2), feature_3: v(i, 3), feature_4: v(i, 4), feature_5: v(i, 5), feature_6: v(i, 6), feature_7: v(i, 7), feature_8: v(i, 8), feature_9: v(i, 9) })
  })

  // What the builders path costs before insert is even called: eleven objects and an array.
  let built
  const buildersAlone = measure((i) => {
    built = new Features([
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
    ])
  })
  void built

  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath(paths, mock, { maxPendingItems: 10_000_000 })
  const psi = queues.get('psi')
  const custom = queues.get('custom')
  const psi25 = queues.get('psi25')
  const custom25 = queues.get('custom25')
  const forget = () => mock.clear() // between rounds only: drop what the mock kept
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
  }, forget)
  const fromObject = measure((i) => {
    psi.insert(Features.fromObject({ feature_0: v(i, 0), feature_1: v(i, 1), feature_2: v(i, 2), feature_3: v(i, 3), feature_4: v(i, 4), feature_5: v(i, 5), feature_6: v(i, 6), feature_7: v(i, 7), feature_8: v(i, 8), feature_9: v(i, 9) }))
  }, forget)
  const metrics = measure((i) => {
    custom.insert(new Metrics([new Metric('mae', v(i, 0)), new Metric('mape', v(i, 1)), new Metric('rmse', v(i, 2))]))
  }, forget)
  // v0.9 against 0.25, interleaved: the comparison the format table has to pass.
  const settle = async () => {
    await queues.flush()
    forget()
  }
  const row = (i) => ({ feature_0: v(i, 0), feature_1: v(i, 1), feature_2: v(i, 2), feature_3: v(i, 3), feature_4: v(i, 4), feature_5: v(i, 5), feature_6: v(i, 6), feature_7: v(i, 7), feature_8: v(i, 8), feature_9: v(i, 9) })
  const [fromObject09, fromObject25] = await measurePair(
    (i) => psi.insert(Features.fromObject(row(i))),
    (i) => psi25.insert(Features.fromObject(row(i))),
    settle,
  )
  const metricsOf = (i) => new Metrics([new Metric('mae', v(i, 0)), new Metric('mape', v(i, 1)), new Metric('rmse', v(i, 2))])
  const [metrics09, metrics25] = await measurePair(
    (i) => custom.insert(metricsOf(i)),
    (i) => custom25.insert(metricsOf(i)),
    settle,
  )
  const stats = await queues.shutdown()
  const original = python(paths)

  const rows = [
    ['floor: plain object of 10 numbers pushed into a JS array', floor, null],
    ['new Features([Feature.float x10]) alone, not inserted', buildersAlone, null],
    ['scouter-queue: new Features([Feature.float x10]) + insert (PSI)', builders, original.psiInsertNs],
    ['scouter-queue: Features.fromObject({10 numbers}) + insert (PSI)', fromObject, original.psiInsertNs],
    ['scouter-queue: new Metrics([Metric x3]) + insert (Custom)', metrics, original.customInsertNs],
    ['interleaved with the next row: v0.9 format, Features.fromObject + insert (PSI)', fromObject09, null],
    ['interleaved: 0.25 format, Features.fromObject + insert (PSI)', fromObject25, null],
    ['interleaved with the next row: v0.9 format, new Metrics([Metric x3]) + insert (Custom)', metrics09, null],
    ['interleaved: 0.25 format, new Metrics([Metric x3]) + insert (Custom)', metrics25, null],
  ]
  const targets = [
    ['insert median <= 1 µs (PSI, builders)', builders <= 1000],
    ['insert <= 5x the floor (PSI, Features.fromObject)', fromObject <= 5 * floor],
    ['insert <= 5x the floor (PSI, builders)', builders <= 5 * floor],
    ['insert >= 10x faster than the original (PSI)', original.psiInsertNs ? original.psiInsertNs >= 10 * builders : null],
    ['0.25 format costs the same per insert as v0.9 (PSI, Custom; within 15 %)', fromObject25 <= 1.15 * fromObject09 && metrics25 <= 1.15 * metrics09],
  ]
  const accounting = Object.fromEntries(Object.entries(stats).map(([alias, s]) => [alias, { inserted: s.inserted, published: s.published, dropped: s.dropped, failed: s.failed, pending: s.pending }]))

  const fmt = (ns) => (ns == null ? 'n/a' : ns.toFixed(1))
  const lines = [
    `Insert cost per row on the caller's thread: median of ${ROUNDS} rounds of ${ROWS} rows (Python: ${PY_ROWS} rows), node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| what | ns/row | vs floor | original ns/row | original / scouter-queue |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(([what, ns, py]) => `| ${what} | ${fmt(ns)} | ${(ns / floor).toFixed(2)}x | ${fmt(py)} | ${py ? (py / ns).toFixed(1) + 'x' : 'n/a'} |`),
    '',
    `Original: ${original.implementation ?? original.error}.`,
    '',
    '| target | result |',
    '| --- | --- |',
    ...targets.map(([what, ok]) => `| ${what} | ${ok === null ? 'n/a' : ok ? 'pass' : 'miss'} |`),
    '',
    `Accounting after shutdown: ${JSON.stringify(accounting)}`,
  ]
  console.log(lines.join('\n'))
  writeResults('insert', { rows: ROWS, rounds: ROUNDS, floor, buildersAlone, builders, fromObject, metrics, fromObject09, fromObject25, metrics09, metrics25, original, targets: Object.fromEntries(targets), accounting }, lines)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
