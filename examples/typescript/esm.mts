// A consumer in strict TypeScript, as an ES module: `tsc -p examples/typescript` type-checks it
// against the published types (dist/index.d.mts), so a change that breaks users fails CI.
import {
  ConfigError,
  EvalRecord,
  Feature,
  Features,
  FileConfig,
  KafkaConfig,
  LLMRecord,
  Metric,
  Metrics,
  ProfileError,
  ScouterQueue,
  type QueueStats,
  type ScouterQueueError,
  type ServerRecords,
} from 'scouter-queue'

export async function publish(paths: Record<string, string>): Promise<QueueStats | undefined> {
  const queues = await ScouterQueue.fromPath(paths, new FileConfig({ path: 'out.jsonl' }), {
    flushIntervalMs: 10_000,
    maxPendingItems: 50_000,
    onError: (error: ScouterQueueError, alias: string) => console.warn(alias, error.code, error.message),
  })
  queues.get('psi').insert(new Features([Feature.float('feature_0', 1.5), Feature.string('color', 'red')]))
  queues.get('psi').insert(Features.fromObject({ feature_0: 2, age: 42n, color: 'blue' }))
  queues.get('custom').insert(new Metrics([new Metric('mae', 1.2)]))
  queues.get('llm').insert(new LLMRecord({ context: { input: 'hi', response: 'hello' }, prompt: { id: 1 } }))
  queues.get('genai').insert(new EvalRecord({ context: { input: 'hi' }, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }).addTag('env', 'prod'))
  const format: 'v0.9' | '0.25' = queues.get('genai').format
  void format
  const stats: Record<string, QueueStats> = await queues.shutdown(5_000)
  return stats.psi
}

export function kafka(): KafkaConfig {
  return new KafkaConfig({ brokers: 'localhost:9092', compressionType: 'zstd', config: { 'linger.ms': 5 } })
}

export function explain(error: unknown): string {
  if (error instanceof ProfileError) return `${error.file}: ${error.field ?? '(file)'}`
  if (error instanceof ConfigError) return error.code
  return String(error)
}

export function countRecords(documents: ServerRecords[]): number {
  return documents.reduce((sum, doc) => sum + doc.records.length, 0)
}
