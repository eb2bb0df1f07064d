// A small Express service that records each request's features for drift monitoring: the JSON
// body becomes one PSI row (Features.fromObject), inserted on the hot path, and the queues are
// shut down (everything inserted published) when the process gets SIGTERM or SIGINT.
//
//   PORT=3000 SCOUTER_FILE_PATH=records.jsonl node examples/express/server.js
//   curl -X POST localhost:3000/predict -H 'content-type: application/json' -d '{"feature_0": 1.5, "color": "red"}'
'use strict'

const { join } = require('node:path')
const express = require('express')
const { ScouterQueue, Features, FileConfig } = require('scouter-queue')

const PROFILE = process.env.PSI_PROFILE ?? join(__dirname, '..', '..', '__test__', 'fixtures', 'psi_profile.json')

async function main() {
  // FileConfig: SCOUTER_FILE_PATH, else ./scouter-records.jsonl. Use KafkaConfig & co. in production.
  const queues = await ScouterQueue.fromPath({ psi: PROFILE }, new FileConfig(), { logger: console, logLevel: 'warn' })
  const psi = queues.get('psi', 'psi')

  const app = express()
  app.use(express.json())
  app.post('/predict', (req, res) => {
    let features
    try {
      features = Features.fromObject(req.body)
    } catch (error) {
      // A body that is not an object of numbers and strings: the caller's mistake, not ours.
      res.status(400).json({ error: error.message })
      return
    }
    psi.insert(features) // synchronous and cheap; never throws because of the network
    res.json({ prediction: 0.5 })
  })

  const server = app.listen(Number(process.env.PORT ?? 3000), () => {
    console.log(`listening on ${server.address().port}`)
  })
  // Stop taking requests, then publish what was inserted; installShutdownHooks re-raises the
  // signal once the queues are shut down, so the process ends as it would have.
  for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => server.close())
  queues.installShutdownHooks({ signals: ['SIGTERM', 'SIGINT'], timeoutMs: 10_000 })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
