// Queues used from worker threads: each worker loads the addon, opens its own ScouterQueue (here
// one File transport per worker) and inserts; the main thread waits for each worker's final
// accounting. The native core runs one runtime per process, shared by every thread's queues.
//
//   node examples/worker-threads/main.js [workers=2] [rows=5000]
'use strict'

const { join } = require('node:path')
const { Worker } = require('node:worker_threads')
const { tmpdir } = require('node:os')

const WORKERS = Number(process.argv[2] ?? 2)
const ROWS = Number(process.argv[3] ?? 5000)
const OUT = process.env.OUT_DIR ?? tmpdir()

async function main() {
  const results = await Promise.all(
    Array.from({ length: WORKERS }, (_, n) => {
      const worker = new Worker(join(__dirname, 'worker.js'), { workerData: { n, rows: ROWS, path: join(OUT, `worker-${n}.jsonl`) } })
      return new Promise((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
        worker.once('exit', (code) => code !== 0 && reject(new Error(`worker ${n} exited with ${code}`)))
      })
    }),
  )
  for (const result of results) console.log(JSON.stringify(result))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
