// The same package from CommonJS TypeScript (dist/index.d.ts).
import scouter = require('scouter-queue')

export async function publish(path: string): Promise<number> {
  const queues = await scouter.ScouterQueue.fromPath({ psi: path }, new scouter.MockConfig())
  queues.get('psi').insert(scouter.Features.fromObject({ feature_0: 1 }))
  const stats = await queues.flush()
  await queues.shutdown()
  return stats.psi?.published ?? 0
}
