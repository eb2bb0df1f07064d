// A strict consumer with no @types/node and no DOM lib (a browser-free edge bundle, a library
// that keeps its types minimal): the published declarations must compile here too.
import { EvalRecord, Features, FileConfig, ScouterQueue, type QueueStats } from 'scouter-queue'

export async function publish(): Promise<QueueStats> {
  const queues = await ScouterQueue.fromPath({ psi: './psi_profile.json', evals: './genai.json' }, new FileConfig({ path: 'out.jsonl' }))
  queues.get('psi', 'psi').insert(Features.fromObject({ feature_0: 1.5 }))
  queues.get('evals', 'genai').insert(new EvalRecord({ context: { input: 'hi' } }))
  return (await queues.shutdown()).psi
}
