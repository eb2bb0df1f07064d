// The same service as examples/express with Fastify: the JSON body becomes one PSI row, inserted
// per request; on SIGTERM/SIGINT Fastify closes and its onClose hook shuts the queues down.
//
//   PORT=3000 SCOUTER_FILE_PATH=records.jsonl node examples/fastify/server.js
'use strict'

const { join } = require('node:path')
const Fastify = require('fastify')
const { ScouterQueue, Features, FileConfig } = require('scouter-queue')

const PROFILE = process.env.PSI_PROFILE ?? join(__dirname, '..', '..', '__test__', 'fixtures', 'psi_profile.json')

async function main() {
  const queues = await ScouterQueue.fromPath({ psi: PROFILE }, new FileConfig())
  const psi = queues.get('psi', 'psi')

  const app = Fastify()
  app.post('/predict', async (request, reply) => {
    let features
    try {
      features = Features.fromObject(request.body)
    } catch (error) {
      return reply.code(400).send({ error: error.message })
    }
    psi.insert(features)
    return { prediction: 0.5 }
  })
  // Fastify's own lifecycle: close() (on a signal below) runs this, so nothing inserted is lost.
  app.addHook('onClose', async () => {
    const stats = await queues.shutdown()
    console.log(`shut down: ${stats.psi.published} published, ${stats.psi.failed} failed`)
  })

  await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  console.log(`listening on ${app.server.address().port}`)
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      app.close().then(() => process.exit(0))
    })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
