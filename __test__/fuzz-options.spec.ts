/**
 * Fuzzing every option (fast-check): the options of `fromPath` and of each transport config get
 * arbitrary values. Each call throws a TypeError, RangeError or ConfigError, or gives something
 * that works: a config, and a queue that publishes one item and shuts down with the accounting
 * balanced. Never a crash, never a plain Error.
 *
 * Network transports are never connected here (other suites share the brokers on this machine):
 * their configs go through the native conversion by `fromPath` with a profile path that does not
 * exist, which the core reads after converting the transport config, so a config the core
 * refuses is a ConfigError and one it takes is a ProfileError.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'
import fc from 'fast-check'

import {
  ConfigError,
  Features,
  FileConfig,
  GrpcConfig,
  HttpConfig,
  KafkaConfig,
  MockConfig,
  ProfileError,
  RabbitMQConfig,
  RedisConfig,
  ScouterQueue,
  type QueueStats,
  type ScouterQueueOptions,
  type TransportConfig,
} from '../ts/index'
import { withEnv } from './helpers/env'
import { profiles, tempDir } from './helpers/fixtures'

/** Cases per run; `FUZZ_RUNS` overrides it. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)


const MAX_DURATION_MS = 2_147_483_647

const balanced = (s: QueueStats) => s.inserted === s.sampledOut + s.dropped + s.pending + s.published + s.failed

/** Every environment variable a transport reads, unset while fuzzing so that only the options count. */
const ENV_VARS = [
  'SCOUTER_FILE_PATH', 'KAFKA_BROKERS', 'SCOUTER_KAFKA_TOPIC', 'KAFKA_TOPIC', 'KAFKA_USERNAME', 'KAFKA_KEY', 'KAFKA_PASSWORD',
  'KAFKA_SECRET', 'KAFKA_SECURITY_PROTOCOL', 'KAFKA_SASL_MECHANISM', 'RABBITMQ_ADDR', 'RABBITMQ_HOST', 'RABBITMQ_PORT',
  'RABBITMQ_USERNAME', 'RABBITMQ_PASSWORD', 'RABBITMQ_QUEUE', 'REDIS_ADDR', 'REDIS_CHANNEL', 'SCOUTER_SERVER_URI',
  'SCOUTER_USERNAME', 'SCOUTER_PASSWORD', 'SCOUTER_AUTH_TOKEN', 'SCOUTER_GRPC_URI',
]
const noEnv = Object.fromEntries(ENV_VARS.map((name) => [name, undefined]))

const boom = (): never => {
  throw new Error('thrown by user code')
}
const nasty = fc.constantFrom<unknown>(
  Symbol('s'),
  { toString: boom, valueOf: boom, [Symbol.toPrimitive]: boom },
  Object.defineProperty({}, 'constructor', { get: boom }),
  () => 1,
  [],
  {},
  null,
  'x'.repeat(100_000),
)
const number = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, 1e-300, 5e-324, 1000, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 1e12, 1e300, NaN, Infinity, -Infinity),
  fc.integer(),
  fc.double(),
)
const value = fc.oneof({ weight: 3, arbitrary: number }, { weight: 2, arbitrary: fc.anything({ withBigInt: true, maxDepth: 1 }) }, { weight: 1, arbitrary: nasty })
/**
 * A duration option: any value. The core refuses anything outside 0..2147483647 ms with a
 * ConfigError (before it did, `1e300` aborted the process).
 */
const duration = value

/** Mostly a usable value, else anything: so that both refusals and working queues are common. */
const mostly = (usable: fc.Arbitrary<unknown>, anything: fc.Arbitrary<unknown> = value) =>
  fc.oneof({ weight: 4, arbitrary: usable }, { weight: 1, arbitrary: anything })
const retries = mostly(fc.integer({ min: 0, max: 100 }))

/** An options object where each key is absent or holds an arbitrary value. */
function options<K extends string>(keys: Record<K, fc.Arbitrary<unknown>>): fc.Arbitrary<Partial<Record<K, unknown>>> {
  return fc.record(keys, { requiredKeys: [] }) as fc.Arbitrary<Partial<Record<K, unknown>>>
}

/** Runs `body`; a TypeError, RangeError or ConfigError is an accepted outcome, anything else fails. */
function refusedOr<T>(body: () => T): { value: T } | 'refused' {
  try {
    return { value: body() }
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError || error instanceof ConfigError) return 'refused'
    throw new Error(`threw ${String(error)}`, { cause: error })
  }
}

/** A queue with `transport` publishes one PSI row and settles; or fromPath refuses with an accepted error. */
async function works(transport: TransportConfig, queueOptions: ScouterQueueOptions = {}): Promise<'refused' | 'worked'> {
  let queues: ScouterQueue
  try {
    queues = await ScouterQueue.fromPath({ psi: profiles.psi }, transport, { onError: () => {}, ...queueOptions })
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError || error instanceof ConfigError) return 'refused'
    throw new Error(`fromPath rejected with ${String(error)}`, { cause: error })
  }
  queues.get('psi').insert(Features.fromObject({ feature_0: 1.5 }))
  const stats = (await queues.shutdown(5000)).psi!
  if (!balanced(stats) || stats.pending !== 0 || stats.inserted !== 1) throw new Error(`bad accounting: ${JSON.stringify(stats)}`)
  return 'worked'
}

/** The native conversion of a network config, without connecting: ConfigError or (converted) ProfileError. */
async function converts(transport: TransportConfig): Promise<'refused' | 'converted'> {
  try {
    await ScouterQueue.fromPath({ p: '/nonexistent/scouter-queue-fuzz/profile.json' }, transport)
  } catch (error) {
    if (error instanceof ConfigError) return 'refused'
    if (error instanceof ProfileError) return 'converted'
    throw new Error(`fromPath rejected with ${String(error)}`, { cause: error })
  }
  throw new Error('fromPath opened a queue with a profile that does not exist')
}

async function fuzz<T>(t: import('ava').ExecutionContext, arbitrary: fc.Arbitrary<T>, run: (value: T) => Promise<string>): Promise<void> {
  const counts: Record<string, number> = {}
  const started = Date.now()
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => {
      const outcome = await run(input)
      counts[outcome] = (counts[outcome] ?? 0) + 1
    }),
    { numRuns: RUNS },
  )
  t.log(`${RUNS} cases in ${Date.now() - started} ms: ${JSON.stringify(counts)}`)
  t.true(Object.keys(counts).length > 1, `both outcomes are exercised: ${JSON.stringify(counts)}`)
}

test.serial('fuzz: fromPath options (Mock transport)', async (t) => {
  const arbitrary = options({
    flushIntervalMs: mostly(fc.integer({ min: 1, max: 60_000 }), duration),
    connectTimeoutMs: mostly(fc.integer({ min: 1, max: 5000 }), duration),
    flushTimeoutMs: mostly(fc.integer({ min: 0, max: 60_000 }), duration),
    maxPendingItems: mostly(fc.integer({ min: 1, max: 200_000 })),
    maxPendingBytes: mostly(fc.integer({ min: 1, max: 2 ** 30 })),
    onError: mostly(fc.constant(() => {})),
  })
  await fuzz(t, arbitrary, async (input) => {
    const transport = new MockConfig()
    return works(transport, input as ScouterQueueOptions)
  })
})

test.serial('fuzz: spool options (directories inside a temporary directory)', async (t) => {
  const dir = tempDir()
  const cwd = process.cwd()
  // Relative names land in `dir`; none contains a slash or is `..`, so every spool stays there.
  process.chdir(dir)
  try {
    const spoolDir = fc.oneof(
      { weight: 4, arbitrary: fc.string({ maxLength: 12 }).filter((s) => !s.includes('/') && s !== '..') },
      { weight: 1, arbitrary: fc.constantFrom('', '.', 'a\0b', 'x'.repeat(300)) },
      { weight: 1, arbitrary: number },
      { weight: 1, arbitrary: fc.constantFrom(null, true, {}, [], () => 'd', Symbol('s')) },
    )
    const arbitrary = options({
      spoolDir: mostly(spoolDir, spoolDir),
      spoolMaxBytes: mostly(fc.integer({ min: 65_536, max: 2 ** 40 })),
      spoolSync: mostly(fc.constantFrom('interval', 'always', 'never'), fc.oneof(value, fc.constantFrom('ALWAYS', 'sometimes', ''))),
    })
    await fuzz(t, arbitrary, async (input) => works(new MockConfig(), input as ScouterQueueOptions))
  } finally {
    process.chdir(cwd)
  }
})

test.serial('fuzz: MockConfig options', async (t) => {
  await fuzz(t, options({ maxRetries: retries }), async (input) => {
    const made = refusedOr(() => new MockConfig(input as never))
    return made === 'refused' ? 'refused' : works(made.value)
  })
})

test.serial('fuzz: FileConfig options (paths inside a temporary directory)', async (t) => {
  const dir = tempDir()
  mkdirSync(join(dir, 'sub'))
  const cwd = process.cwd()
  // Relative paths land in `dir`; the generated ones never contain a slash, so they stay there.
  process.chdir(dir)
  try {
    const path = fc.oneof(fc.string({ maxLength: 12 }).filter((s) => !s.includes('/')), fc.constantFrom('', '.', '..', 'sub', 'a\0b'), value)
    await withEnv(noEnv, () =>
      fuzz(t, options({ path, maxRetries: retries }), async (input) => {
        const made = refusedOr(() => new FileConfig(input as never))
        return made === 'refused' ? 'refused' : works(made.value)
      }),
    )
  } finally {
    process.chdir(cwd)
  }
})

const text = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', 'localhost:9092', 'amqp://u:p@h:5672/%2f', 'redis://127.0.0.1:6379', 'http://u:p@localhost:8000', 'a\0b', 'ht tp://bad'))
const stringy = mostly(text)

const networkConfigs: Array<[string, fc.Arbitrary<Record<string, unknown>>, (options: never) => TransportConfig]> = [
  [
    'KafkaConfig',
    options({
      brokers: stringy,
      topic: stringy,
      compressionType: mostly(fc.constantFrom('none', 'gzip', 'snappy', 'lz4', 'zstd', 'ZSTD', 'brotli')),
      messageTimeoutMs: mostly(fc.integer({ min: 1, max: MAX_DURATION_MS })),
      messageMaxBytes: mostly(fc.integer({ min: 1000, max: 1e9 })),
      maxRetries: retries,
      config: mostly(fc.dictionary(fc.string({ maxLength: 12 }), mostly(fc.oneof(fc.string(), fc.double(), fc.boolean())), { maxKeys: 4 })),
      username: stringy,
      password: stringy,
    }),
    (o) => new KafkaConfig(o),
  ],
  [
    'RabbitMQConfig',
    options({ address: stringy, host: stringy, port: mostly(fc.integer({ min: 1, max: 65535 })), username: stringy, password: stringy, queue: stringy, maxRetries: retries }),
    (o) => new RabbitMQConfig(o),
  ],
  ['RedisConfig', options({ address: stringy, channel: stringy, maxRetries: retries }), (o) => new RedisConfig(o)],
  [
    'HttpConfig',
    options({ serverUri: stringy, username: stringy, password: stringy, authToken: stringy, timeoutMs: mostly(fc.integer({ min: 1, max: MAX_DURATION_MS })), maxRetries: retries }),
    (o) => new HttpConfig(o),
  ],
  [
    'GrpcConfig',
    options({
      serverUri: mostly(fc.oneof(text, fc.constantFrom('http://127.0.0.1:50051', 'https://u:p@localhost:50051', 'HTTP://h:1/x', 'http://a b:1', 'https://[::1]:50051'))),
      username: stringy,
      password: stringy,
      timeoutMs: mostly(fc.integer({ min: 1, max: MAX_DURATION_MS })),
      connectTimeoutMs: mostly(fc.integer({ min: 1, max: MAX_DURATION_MS })),
      maxRetries: retries,
    }),
    (o) => new GrpcConfig(o),
  ],
]

for (const [name, arbitrary, make] of networkConfigs) {
  test.serial(`fuzz: ${name} options (converted by the core, never connected)`, async (t) => {
    await withEnv(noEnv, () =>
      fuzz(t, arbitrary, async (input) => {
        const made = refusedOr(() => make(input as never))
        if (made === 'refused') return 'refused'
        // Whatever the config holds, printing it must not throw either.
        String(made.value)
        JSON.stringify(made.value)
        return converts(made.value)
      }),
    )
  })
}
