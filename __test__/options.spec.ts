/**
 * The option table (`src/core/options.rs`) is the one source of every option's env vars, default
 * and rule. These tests hold everything else to it: the configs' resolved defaults, each env var
 * (used when set, refused by name when unusable), the declarations' `Env:` and `@default` tags,
 * the README's tables, the secret rule, and the native checks that a forged config meets.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'

import {
  ConfigError,
  FileConfig,
  GrpcConfig,
  HttpConfig,
  KafkaConfig,
  MockConfig,
  RabbitMQConfig,
  RedisConfig,
  ScouterQueue,
} from '../ts/index'
import native = require('../ts/native')
import type { BindingOptionSpec } from '../index'
import { withEnv } from './helpers/env'
import { profiles } from './helpers/fixtures'

const { renderReadme } = require('../scripts/options-table.js') as { renderReadme: (readme: string, rows: BindingOptionSpec[]) => string }

const ROWS = native.optionTable()
const ROOT = join(__dirname, '..')

/** Every env var of the table unset, so that defaults show. */
const NO_ENV = Object.fromEntries(ROWS.flatMap((row) => row.env).map((name) => [name, undefined]))

type Scope = BindingOptionSpec['scope']
const CONFIGS: Record<Exclude<Scope, 'queue'>, (options?: Record<string, unknown>) => Record<string, unknown>> = {
  file: (options) => new FileConfig(options) as never,
  mock: (options) => new MockConfig(options) as never,
  kafka: (options) => new KafkaConfig(options) as never,
  rabbitmq: (options) => new RabbitMQConfig(options) as never,
  redis: (options) => new RedisConfig(options) as never,
  http: (options) => new HttpConfig(options) as never,
  grpc: (options) => new GrpcConfig(options) as never,
}

/** Where a config shows a resolved option, when it shows it as is. */
function shownValue(scope: Exclude<Scope, 'queue'>, name: string, config: Record<string, unknown>): unknown {
  if (scope === 'kafka' && name === 'securityProtocol') return undefined
  if (scope === 'kafka' && name === 'saslMechanism') return undefined
  if (scope === 'rabbitmq' && ['host', 'port'].includes(name)) {
    const address = config.address as string
    return name === 'host' ? /^amqp:\/\/([^:/]*):/.exec(address)?.[1] : Number(/:(\d+)\/%2f$/.exec(address)?.[1])
  }
  if (scope === 'redis' && name === 'address') return config.address
  return config[name]
}

test('the table has every option of every scope once, and each default passes its own rule', (t) => {
  const keys = ROWS.map((row) => `${row.scope}.${row.name}`)
  t.is(new Set(keys).size, keys.length)
  t.deepEqual([...new Set(ROWS.map((row) => row.scope))], ['queue', 'file', 'mock', 'kafka', 'rabbitmq', 'redis', 'http', 'grpc'])
  for (const row of ROWS) {
    if (row.default === undefined) continue
    t.deepEqual(native.checkOption(row.scope, row.name, row.default), row.rule === 'oneOf' ? row.default.toString().toLowerCase() : row.default, `${row.scope}.${row.name}`)
  }
  t.true(ROWS.filter((row) => row.name === 'maxRetries').every((row) => row.default === 3 && row.min === 0 && row.max === 100))
  // The values the issue found written twice are now one row each.
  t.is(ROWS.find((row) => row.scope === 'queue' && row.name === 'maxPendingItems')?.default, 100_000)
})

test('every config resolves to the table defaults when nothing is set', (t) => {
  withEnv(NO_ENV, () => {
    for (const [scope, make] of Object.entries(CONFIGS) as [Exclude<Scope, 'queue'>, (typeof CONFIGS)['file']][]) {
      const config = make()
      for (const row of ROWS.filter((r) => r.scope === scope && !r.secret && r.default !== undefined)) {
        const shown = shownValue(scope, row.name, config)
        if (shown === undefined) continue
        t.deepEqual(shown, row.default, `${scope}.${row.name}`)
      }
    }
  })
  const kafka = withEnv(NO_ENV, () => new KafkaConfig({ username: 'u', password: 'p' }))
  t.is(kafka.settings['security.protocol'], 'SASL_SSL')
  t.is(kafka.settings['sasl.mechanism'], 'PLAIN')
})

test('each env var of the table is used when set, and refused by name when unusable', async (t) => {
  for (const row of ROWS.filter((r) => r.scope !== 'queue' && r.env.length > 0)) {
    const make = CONFIGS[row.scope as Exclude<Scope, 'queue'>]
    const good = row.rule === 'whole' ? String((row.min as number) + 1) : row.name === 'serverUri' ? 'http://example.test:1234' : `from-${row.env[0]}`
    for (const name of row.env) {
      // Only this variable set (the others of the row unset, since the first set one wins).
      const config = withEnv({ ...NO_ENV, [name]: good }, () => make())
      const shown = row.secret ? undefined : shownValue(row.scope as Exclude<Scope, 'queue'>, row.name, config)
      if (shown !== undefined) t.deepEqual(shown, row.rule === 'whole' ? Number(good) : good, `${row.scope}.${row.name} from ${name}`)
      if (row.rule === 'whole') {
        const error = t.throws(() => withEnv({ ...NO_ENV, [name]: 'abc' }, () => make()), { instanceOf: ConfigError })
        t.regex(error?.message ?? '', new RegExp(`environment variable ${name} must be a whole number from ${row.min} to ${row.max}, got NaN`))
      }
    }
  }
  // The option in code wins over the env var, which wins over the default.
  const redis = withEnv({ ...NO_ENV, REDIS_CHANNEL: 'from-env' }, () => [new RedisConfig().channel, new RedisConfig({ channel: 'code' }).channel])
  t.deepEqual(redis, ['from-env', 'code'])
  // SCOUTER_LOG_LEVEL takes any case and stray spaces; a bad value is refused by name.
  await t.throwsAsync(
    withEnv({ SCOUTER_LOG_LEVEL: 'loud' }, () => ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig(), { logger: console })),
    { instanceOf: ConfigError, message: /environment variable SCOUTER_LOG_LEVEL must be one of debug, info, warn, error, silent, got "loud"/ },
  )
  const lines: string[] = []
  const logger = { debug: (line: string) => lines.push(`debug ${line}`), info: (line: string) => lines.push(`info ${line}`), warn: (line: string) => lines.push(`warn ${line}`), error: (line: string) => lines.push(`error ${line}`) }
  const queues = await withEnv({ SCOUTER_LOG_LEVEL: ' WARN ' }, () => ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig(), { logger }))
  await queues.shutdown()
  t.deepEqual(lines, [], 'at warn, start and shutdown (info) are not logged')
})

test('bad values are ConfigErrors that name the option and never show a secret', (t) => {
  t.throws(() => new KafkaConfig({ maxRetries: 2.5 }), { instanceOf: ConfigError, message: /option `maxRetries` must be a whole number from 0 to 100, got 2\.5/ })
  t.throws(() => new KafkaConfig({ compressionType: 'brotli' as never }), { instanceOf: ConfigError, message: /option `compressionType` must be one of none, gzip, snappy, lz4, zstd, got "brotli"/ })
  t.is(new KafkaConfig({ compressionType: 'ZSTD' }).compressionType, 'zstd')
  t.throws(() => new RabbitMQConfig({ port: '5672' as never }), { instanceOf: ConfigError, message: /option `port` must be a number, got the string "5672"/ })
  t.throws(() => new HttpConfig({ timeoutMs: 0 }), { instanceOf: ConfigError, message: /option `timeoutMs` must be a whole number from 1 to 2147483647, got 0/ })
  const secret = t.throws(() => new HttpConfig({ password: 1234567 as never }), { instanceOf: ConfigError })
  t.is(secret?.message, 'invalid config: option `password` must be a string, got a number')
  const object = t.throws(() => new RedisConfig({ channel: { secret: 'x' } as never }), { instanceOf: ConfigError })
  t.regex(object?.message ?? '', /option `channel` must be a string, got/)
  const hidden = t.throws(() => new KafkaConfig({ password: { secret: 'hunter2' } as never }), { instanceOf: ConfigError })
  t.false(hidden?.message.includes('hunter2'))
})

test('one secret rule: librdkafka secrets, sasl.oauthbearer included, are redacted; URLs lose only their password', (t) => {
  const kafka = new KafkaConfig({
    config: { 'sasl.oauthbearer.client.secret': 's3', 'sasl.oauthbearer.config': 'principal=x', 'ssl.key.password': 'k', 'ssl.key.pem': 'PEM', 'client.id': 'me' },
  })
  t.is(kafka.settings['sasl.oauthbearer.client.secret'], '[redacted]')
  t.is(kafka.settings['sasl.oauthbearer.config'], '[redacted]')
  t.is(kafka.settings['ssl.key.password'], '[redacted]')
  t.is(kafka.settings['ssl.key.pem'], '[redacted]')
  t.is(kafka.settings['client.id'], 'me')
  for (const text of [String(kafka), JSON.stringify(kafka)]) {
    t.false(/s3|principal=x|PEM/.test(text))
  }
  t.is(new RabbitMQConfig({ address: 'amqp://guest:pw@host:5672/%2f' }).address, 'amqp://guest:[redacted]@host:5672/%2f')
  t.is(new RedisConfig({ address: 'redis://user@host:6379' }).address, 'redis://user@host:6379')
  t.is(new RedisConfig({ address: 'redis://host:6379/0?x=@' }).address, 'redis://host:6379/0?x=@')
})

test('the declarations document each option with the env vars and default of its row', (t) => {
  const sources = ['ts/config/transports.ts', 'ts/scouter-queue.ts'].map((file) => readFileSync(join(ROOT, file), 'utf8')).join('\n')
  const interfaces: Record<Scope, string> = {
    queue: 'ScouterQueueOptions',
    file: 'FileConfigOptions',
    mock: 'MockConfigOptions',
    kafka: 'KafkaConfigOptions',
    rabbitmq: 'RabbitMQConfigOptions',
    redis: 'RedisConfigOptions',
    http: 'HttpConfigOptions',
    grpc: 'GrpcConfigOptions',
  }
  for (const row of ROWS) {
    const body = new RegExp(`export interface ${interfaces[row.scope]} \\{([\\s\\S]*?)\\n\\}`).exec(sources)?.[1]
    t.truthy(body, interfaces[row.scope])
    // The doc comment right before `name?:`.
    const doc = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*${row.name}\\?:`).exec(body ?? '')?.[1]
    t.truthy(doc, `${row.scope}.${row.name} is documented`)
    const envText = /Env: ([^.@]*)/.exec(doc ?? '')?.[1] ?? ''
    const envs = [...envText.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1])
    t.deepEqual(envs, row.env, `${row.scope}.${row.name}: Env`)
    const documented = /@default ('[^']*'|\d[\d_]*)/.exec(doc ?? '')?.[1]
    const expected = row.default === undefined || row.default === '' ? undefined : typeof row.default === 'string' ? `'${row.default}'` : String(row.default)
    t.is(documented?.replace(/^(\d+)_?/, (n) => n.replace(/_/g, '')).replace(/(\d)_(?=\d)/g, '$1'), expected, `${row.scope}.${row.name}: @default`)
  }
})

test('the README option tables are what scripts/options-table.js writes from the table', (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  t.is(renderReadme(readme, ROWS), readme, 'run `node scripts/options-table.js`')
  for (const scope of new Set(ROWS.map((row) => row.scope))) t.true(readme.includes(`<!-- options:${scope} -->\n| option | env var |`), scope)
  t.not(renderReadme(readme.replace('| `maxRetries` |', '| `maxRetriez` |'), ROWS), readme.replace('| `maxRetries` |', '| `maxRetriez` |'))
})

test('a forged transport config is refused at the N-API boundary with the table rules, never a crash', async (t) => {
  const sources = [{ alias: 'custom', path: profiles.custom }]
  const open = (config: unknown) => native.openQueues(sources, [config as never], [null], {}, undefined, undefined)
  for (const forged of [{ kind: 'nope' }, { kind: 'kafka' }, { kind: 'file', path: 'x.jsonl' }, {}, null, 'file']) {
    t.throws(() => open(forged), undefined, JSON.stringify(forged))
  }
  for (const [forged, message] of [
    [{ kind: 'file', path: 'x.jsonl', maxRetries: 1e9 }, /option `maxRetries` must be a whole number from 0 to 100, got 1000000000/],
    [{ kind: 'file', path: '', maxRetries: 1 }, /option `path` must be a file path/],
    [{ kind: 'http', serverUri: 'http://h', username: 'u', password: 'p', authToken: '', timeoutMs: Number.NaN, maxRetries: 1 }, /option `timeoutMs` must be a whole number from 1 to 2147483647, got NaN/],
    [{ kind: 'grpc', serverUri: 'http://h:1', username: 'u', password: 'p', timeoutMs: 1, connectTimeoutMs: 1e12, maxRetries: 1 }, /option `connectTimeoutMs` must be a whole number/],
    [{ kind: 'mock' }, /the Mock transport needs its store/],
  ] as const) {
    const opened = await open(forged)
    t.false(opened instanceof native.BindingScouterQueue)
    t.is((opened as { code: string }).code, 'SCOUTER_CONFIG_INVALID')
    t.regex((opened as { message: string }).message, message)
  }
  t.throws(() => new native.BindingMockStore(-1), { message: /option `maxRetries` must be a whole number from 0 to 100, got -1/ })
})
