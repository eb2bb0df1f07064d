// One worker of examples/worker-threads/main.js: its own queues, its own rows, its accounting
// posted back once everything inserted is published.
'use strict'

const { join } = require('node:path')
const { parentPort, workerData } = require('node:worker_threads')
const { ScouterQueue, Features, FileConfig } = require('scouter-queue')

async function run() {
  const { n, rows, path } = workerData
  const profile = join(__dirname, '..', '..', '__test__', 'fixtures', 'psi_profile.json')
  const queues = await ScouterQueue.fromPath({ psi: profile }, new FileConfig({ path }))
  for (let i = 0; i < rows; i++) queues.get('psi').insert(Features.fromObject({ feature_0: (i % 10) + 0.5 }))
  const stats = await queues.shutdown()
  parentPort.postMessage({ worker: n, path, inserted: stats.psi.inserted, published: stats.psi.published, failed: stats.psi.failed })
}

run().catch((error) => {
  throw error
})
