/**
 * Misuses a new user makes, each of which must be a compile error (`tsc -p tsconfig.json` runs
 * this file in the test command; an `@ts-expect-error` whose line compiles fails the build).
 * Never executed: it only has to type-check.
 */
import {
  EvalRecord,
  Feature,
  Features,
  FileConfig,
  KafkaConfig,
  LLMRecord,
  Metric,
  Metrics,
  ScouterQueue,
  type QueueStats,
} from '../../ts/index'

export async function misuses(): Promise<void> {
  const queues = await ScouterQueue.fromPath({ psi: './psi.json', custom: './custom.json', llm: './llm.json', genai: './genai.json' })
  const psi = queues.get('psi', 'psi')
  const custom = queues.get('custom', 'custom')
  const llm = queues.get('llm', 'llm')
  const genai = queues.get('genai', 'genai')

  // Aliases: only those given to fromPath.
  // @ts-expect-error 1. an unknown alias
  queues.get('pis')
  // @ts-expect-error 2. a kind that does not exist
  queues.get('psi', 'kafka')

  // Items of the wrong kind, once the queue's kind is stated.
  // @ts-expect-error 3. Metrics into a PSI queue
  psi.insert(Metrics.fromObject({ mae: 1 }))
  // @ts-expect-error 4. Features into a Custom queue
  custom.insert(Features.fromObject({ a: 1 }))
  // @ts-expect-error 5. an EvalRecord into an LLM queue
  llm.insert(new EvalRecord({ context: {} }))
  // @ts-expect-error 6. an LLMRecord into a GenAI queue
  genai.insert(new LLMRecord({ context: {} }))
  // @ts-expect-error 7. a plain object instead of Features
  psi.insert({ feature_0: 1 })

  // Record contexts and prompts: JSON only.
  // @ts-expect-error 8. a bigint inside a context
  new LLMRecord({ context: { n: 1n } })
  // @ts-expect-error 9. a function inside a context
  new LLMRecord({ context: { f: () => 1 } })
  // @ts-expect-error 10. an array as the context
  new LLMRecord({ context: [1, 2] })
  // @ts-expect-error 11. a string as the context
  new EvalRecord({ context: 'hi' })
  // @ts-expect-error 12. a Map inside a context (JSON writes {})
  new EvalRecord({ context: { m: new Map<string, number>() } })
  // @ts-expect-error 13. a symbol as the prompt
  new LLMRecord({ context: {}, prompt: Symbol('p') })
  // @ts-expect-error 14. an EvalRecord without a context
  new EvalRecord({ id: 'x' })
  // @ts-expect-error 15. a numeric trace id
  new EvalRecord({ context: {}, traceId: 5 })
  // @ts-expect-error 16. a tag value that is not a string
  new EvalRecord({ context: {} }).addTag('k', 5)

  // Stats are a reading, not a handle.
  const stats = queues.stats()
  // @ts-expect-error 17. assigning a counter
  stats.psi.inserted = 5
  // @ts-expect-error 18. replacing an alias's stats
  stats.psi = {} as QueueStats
  // @ts-expect-error 19. pushing into the transports list
  stats.psi.transports.push(stats.psi.transports[0]!)
  // @ts-expect-error 20. an alias that is not there
  void stats.pis
  // @ts-expect-error 21. changing a queue's kind
  psi.kind = 'spc'

  // Builders and configs.
  // @ts-expect-error 22. a string where a Metric wants a number
  new Metric('mae', '1')
  // @ts-expect-error 23. a string where Feature.int wants a number
  Feature.int('a', 'one')
  // @ts-expect-error 24. an object as a feature value
  Features.fromObject({ a: { b: 1 } })
  // @ts-expect-error 25. a compression Kafka does not have
  new KafkaConfig({ compressionType: 'brotli' })
  // @ts-expect-error 26. a number as a profile path
  await ScouterQueue.fromPath({ psi: 5 })
  // @ts-expect-error 27. a transport given by name
  await ScouterQueue.fromPath({ psi: './psi.json' }, 'kafka')
  // @ts-expect-error 28. an option of the wrong type
  await ScouterQueue.fromPath({ psi: './psi.json' }, new FileConfig(), { maxPendingItems: '5' })
  // @ts-expect-error 29. a spoolSync mode that does not exist
  await ScouterQueue.fromPath({ psi: './psi.json' }, new FileConfig(), { spoolSync: 'sometimes' })
  // @ts-expect-error 30. an onError that expects something else than an error
  await ScouterQueue.fromPath({ psi: './psi.json' }, new FileConfig(), { onError: (error: number) => void error })
  // @ts-expect-error 31. an alias not given to fromProfiles
  ;(await ScouterQueue.fromProfiles({ psi: {} })).get('spc')
  // @ts-expect-error 32. a path where fromProfiles wants the profile object
  await ScouterQueue.fromProfiles({ psi: './psi.json' })
}

/** What must keep compiling: the same calls, used right. */
export async function uses(): Promise<void> {
  const queues = await ScouterQueue.fromPath({ psi: './psi.json', evals: new URL('file:///genai.json') })
  const anyKind = queues.get('psi')
  anyKind.insert(Features.fromObject({ a: 1 }))
  anyKind.insert(Metrics.fromObject({ mae: 1 }))
  queues.get('psi', 'psi').insert(new Features([Feature.float('a', 1)]))
  interface Context {
    input: string
    at: Date
    tags?: string[]
  }
  const context: Context = { input: 'hi', at: new Date() }
  type ContextAlias = { input: string; scores: readonly number[]; nested: { ok: boolean | null } }
  const alias: ContextAlias = { input: 'x', scores: [1], nested: { ok: null } }
  queues.get('evals', 'genai').insert(new EvalRecord({ context: alias }).addTag('k', 'v'))
  new LLMRecord({ context: { input: context.input, at: context.at, tags: context.tags }, prompt: [{ role: 'user', text: 'hi' }] })
  const inserted: number = queues.stats().psi.inserted
  void inserted
}
