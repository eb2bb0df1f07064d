// What watching the queues costs, side by side in one run: PSI rows of ten features end to end
// (insert until flush() resolves, Mock transport) with nobody watching, with an OpenTelemetry
// SDK MeterProvider given (observable instruments plus the publish-duration histogram, which
// switches the core's publish events on), and with a subscriber on the `scouter-queue:publish`
// diagnostics channel. "Nobody watching" is what an app without a meter provider gets (here
// @opentelemetry/api is installed, so its global no-op provider is found and left alone): no
// instrument registered, the core's publish events off. Rounds interleave the variants; medians
// of rows/s and their ratio to nobody watching. Writes bench/results/observability.*.
//
//   node bench/observability.js [rows=2000000] [rounds=5]
'use strict'

const diagnostics = require('node:diagnostics_channel')
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics')
const { ScouterQueue, Features, MockConfig, CHANNELS } = require('scouter-queue')
const { benchProfiles, benchRow } = require('./profiles')
const { median, writeResults } = require('./results')

const ROWS = Number(process.argv[2] ?? 2_000_000)
const ROUNDS = Number(process.argv[3] ?? 5)

class OnDemandReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

const VARIANTS = [
  ['nobody watching (no meter provider: the API\'s global no-op one)', () => ({ options: {}, stop: () => {} })],
  [
    'OpenTelemetry SDK MeterProvider',
    () => {
      const reader = new OnDemandReader()
      const provider = new MeterProvider({ readers: [reader] })
      return { options: { meterProvider: provider }, stop: () => provider.shutdown() }
    },
  ],
  [
    'subscriber on scouter-queue:publish',
    () => {
      let seen = 0
      const listener = () => seen++
      diagnostics.subscribe(CHANNELS.publish, listener)
      return { options: {}, stop: () => diagnostics.unsubscribe(CHANNELS.publish, listener), seen: () => seen }
    },
  ],
]

async function run(profile, makeVariant) {
  const variant = makeVariant()
  const queues = await ScouterQueue.fromPath({ psi: profile }, new MockConfig(), { maxPendingItems: ROWS, maxPendingBytes: ROWS * 200, ...variant.options })
  const psi = queues.get('psi')
  const start = process.hrtime.bigint()
  for (let i = 0; i < ROWS; i++) psi.insert(Features.fromObject(benchRow(i)))
  const stats = await queues.flush()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await queues.shutdown()
  await variant.stop()
  if (stats.psi.published !== ROWS) throw new Error(`published ${stats.psi.published} of ${ROWS}`)
  return ROWS / seconds
}

async function main() {
  const { psi } = benchProfiles()
  const results = VARIANTS.map(() => [])
  await run(psi, VARIANTS[0][1]) // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, [, make]] of VARIANTS.entries()) results[k].push(await run(psi, make))
  }
  const base = median(results[0])
  const rows = VARIANTS.map(([name], k) => ({ name, rowsPerSecond: median(results[k]), ratio: median(results[k]) / base }))
  const lines = [
    `What watching the queues costs: ${ROWS.toLocaleString('en')} PSI rows end to end (Mock transport), medians of ${ROUNDS} interleaved rounds. node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| variant | rows/s | vs nobody watching |',
    '| --- | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.rowsPerSecond).toLocaleString('en')} | ${r.ratio.toFixed(2)}x |`),
  ]
  console.log(lines.join('\n'))
  writeResults('observability', { rows: ROWS, rounds: ROUNDS, results: rows }, lines)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
