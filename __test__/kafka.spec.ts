/**
 * The Kafka transport against a real broker (KRaft, 127.0.0.1:9092, started by
 * scripts/services.sh). Documents are read back with kafkajs, and the broker's own log segments
 * are dumped to prove the compression codec. Serial: the last test restarts the broker.
 */
import { readdirSync } from 'node:fs'
import { inspect } from 'node:util'
import { join } from 'node:path'

import test from 'ava'
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs'

import { Features, KafkaConfig, Metrics, ScouterQueue, type ScouterQueueError, type ServerRecords, type UidServerRecords } from '../ts/index'
import { KNOWN_SET_DOCUMENTS, assertKnownSet, assertKnownStats, insertKnownSet, knownSetProfiles, kafkaClass, restartBroker, startBroker, stopBroker, uniqueName, waitFor } from './helpers/brokers'
import { withEnv } from './helpers/env'
import { customValues, profiles } from './helpers/fixtures'

const BROKERS = '127.0.0.1:9092'

interface Consumed {
  key: Buffer | null
  document: ServerRecords
}

/** Reads `topic` from the beginning until `count` messages (or `until` holds). */
async function consume(topic: string, count: number, until?: (messages: Consumed[]) => boolean): Promise<Consumed[]> {
  const kafka = new Kafka({ clientId: 'scouter-queue-test', brokers: [BROKERS], logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: uniqueName('scouter_test_group') })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    const messages: Consumed[] = []
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push({ key: message.key, document: JSON.parse(message.value!.toString('utf8')) as ServerRecords })
      },
    })
    const done = until ?? ((seen: Consumed[]) => seen.length >= count)
    await waitFor(`${count} messages on ${topic}`, () => done(messages), 60_000)
    return messages
  } finally {
    await consumer.disconnect()
  }
}

/** Where the running broker keeps its logs (asked, not assumed: another checkout may run it). */
async function logDir(): Promise<string> {
  const admin = new Kafka({ clientId: 'scouter-queue-test', brokers: [BROKERS], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: ['log.dirs'] }],
    })
    return resources[0]!.configEntries[0]!.configValue.split(',')[0]!
  } finally {
    await admin.disconnect()
  }
}

/** The compression codecs of the batches in a topic's log segment, as the broker wrote them. */
async function codecs(topic: string): Promise<string[]> {
  const dir = join(await logDir(), `${topic}-0`)
  const segment = readdirSync(dir).find((f) => f.endsWith('.log'))!
  const dump = kafkaClass(['kafka.tools.DumpLogSegments', '--files', join(dir, segment)])
  return [...dump.matchAll(/compresscodec: (\w+)/g)].map((m) => m[1]!.toLowerCase())
}

test.serial('Kafka: every drift kind is produced to the topic exactly, no key, gzip by default', async (t) => {
  const topic = uniqueName('scouter_test')
  const queues = await ScouterQueue.fromPath(knownSetProfiles, new KafkaConfig({ brokers: BROKERS, topic }))
  const known = insertKnownSet(queues)
  // flush resolved on the delivery reports: the messages are in the topic now.
  assertKnownStats(t, await queues.flush())
  const consumed = await consume(topic, KNOWN_SET_DOCUMENTS)
  t.true(consumed.every((m) => m.key === null), 'no message key')
  assertKnownSet(t, consumed.map((m) => m.document), known)
  await queues.shutdown()
  t.deepEqual([...new Set(await codecs(topic))], ['gzip'])
})

test.serial('Kafka: zstd compression, read back by the broker\'s own console consumer', async (t) => {
  const topic = uniqueName('scouter_zstd')
  const queues = await ScouterQueue.fromPath(knownSetProfiles, new KafkaConfig({ brokers: BROKERS, topic, compressionType: 'ZSTD' }))
  const known = insertKnownSet(queues)
  assertKnownStats(t, await queues.shutdown())
  t.deepEqual([...new Set(await codecs(topic))], ['zstd'])
  const output = kafkaClass([
    'org.apache.kafka.tools.consumer.ConsoleConsumer',
    '--bootstrap-server', BROKERS, '--topic', topic, '--from-beginning', '--max-messages', String(KNOWN_SET_DOCUMENTS), '--timeout-ms', '30000',
  ])
  const documents = output.trim().split('\n').map((line) => JSON.parse(line) as ServerRecords | UidServerRecords)
  assertKnownSet(t, documents, known)
})

test.serial('Kafka: two fromPath on the same topic both arrive', async (t) => {
  const topic = uniqueName('scouter_shared')
  const a = await ScouterQueue.fromPath({ custom: profiles.custom }, new KafkaConfig({ brokers: BROKERS, topic }))
  const b = await ScouterQueue.fromPath({ custom: profiles.custom }, new KafkaConfig({ brokers: BROKERS, topic }))
  a.get('custom').insert(Metrics.fromObject({ mae: 10 }))
  b.get('custom').insert(Metrics.fromObject({ mae: 20 }))
  await Promise.all([a.shutdown(), b.shutdown()])
  const values = customValues((await consume(topic, 2)).map(({ document }) => document))
  t.deepEqual(values.sort(), [10, 20])
})

test.serial('Kafka: options, env fallbacks, librdkafka settings and SASL; secrets never show', (t) => {
  const keys = ['KAFKA_BROKERS', 'SCOUTER_KAFKA_TOPIC', 'KAFKA_TOPIC', 'KAFKA_USERNAME', 'KAFKA_KEY', 'KAFKA_PASSWORD', 'KAFKA_SECRET', 'KAFKA_SECURITY_PROTOCOL', 'KAFKA_SASL_MECHANISM'] as const
  withEnv(Object.fromEntries(keys.map((key) => [key, undefined])), () => {
  const defaults = new KafkaConfig()
  t.like(defaults, { brokers: 'localhost:9092', topic: 'scouter_monitoring', compressionType: 'gzip', messageTimeoutMs: 600000, messageMaxBytes: 2097164, maxRetries: 3 })
  t.deepEqual(defaults.settings, {
    'enable.idempotence': 'true',
    'bootstrap.servers': 'localhost:9092',
    'compression.type': 'gzip',
    'message.timeout.ms': '600000',
    'message.max.bytes': '2097164',
  })
  process.env.KAFKA_BROKERS = 'k1:9092,k2:9092'
  process.env.KAFKA_TOPIC = 'fallback_topic'
  t.like(new KafkaConfig(), { brokers: 'k1:9092,k2:9092', topic: 'fallback_topic' })
  process.env.SCOUTER_KAFKA_TOPIC = 'scouter_topic'
  t.is(new KafkaConfig().topic, 'scouter_topic')

  // Extra settings pass through; the named options override the same keys.
  const custom = new KafkaConfig({ compressionType: 'lz4', config: { 'linger.ms': 5, 'compression.type': 'snappy', 'enable.idempotence': false } })
  t.like(custom.settings, { 'linger.ms': '5', 'compression.type': 'lz4', 'enable.idempotence': 'false' })
  t.throws(() => new KafkaConfig({ compressionType: 'brotli' as never }), { code: 'SCOUTER_CONFIG_INVALID', message: /compressionType/ })

  process.env.KAFKA_KEY = 'api-key'
  process.env.KAFKA_SECRET = 'api-s3cret'
  const sasl = new KafkaConfig()
  t.like(sasl.settings, { 'sasl.username': 'api-key', 'sasl.password': '[redacted]', 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN' })
  process.env.KAFKA_SECURITY_PROTOCOL = 'SASL_PLAINTEXT'
  process.env.KAFKA_SASL_MECHANISM = 'SCRAM-SHA-512'
  t.like(new KafkaConfig().settings, { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-512' })
  t.is(new KafkaConfig({ config: { 'sasl.mechanism': 'OAUTHBEARER' } }).settings['sasl.username'], undefined, 'config with sasl keys wins')
  for (const printed of [String(sasl), JSON.stringify(sasl), inspect(sasl), inspect(new KafkaConfig({ config: { 'ssl.key.password': 'k3y-pw' } }))]) {
    t.false(printed.includes('api-s3cret') || printed.includes('k3y-pw'), printed)
  }
  })
})

test.serial('Kafka: a wrong broker address is reported through onError without hanging', async (t) => {
  const errors: Array<[ScouterQueueError, string]> = []
  const queues = await ScouterQueue.fromPath(
    { custom: profiles.custom },
    new KafkaConfig({ brokers: '127.0.0.1:1', topic: uniqueName('nowhere'), messageTimeoutMs: 3000, maxRetries: 0 }),
    { onError: (error, alias) => errors.push([error, alias]) },
  )
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const started = Date.now()
  const stats = await queues.shutdown()
  t.true(Date.now() - started < 20_000)
  t.like(stats.custom, { inserted: 1, failed: 1, pending: 0 })
  t.true(errors.some(([, alias]) => alias === '*'), 'the broker failure itself is reported for every queue')
  t.true(errors.some(([error, alias]) => alias === 'custom' && /kafka transport: .*(Message timed out|transport failure|brokers? (are )?down)/i.test(error.message)))
  await t.throwsAsync(
    ScouterQueue.fromPath({ custom: profiles.custom }, new KafkaConfig({ brokers: '127.0.0.1:1' }), { connectTimeoutMs: 1500 }),
    { code: 'SCOUTER_CONFIG_INVALID', message: /could not connect the kafka transport within 1500 ms/ },
  )
})

test.serial('Kafka: after a broker restart the next publish arrives without restarting the queue', async (t) => {
  const topic = uniqueName('scouter_restart')
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new KafkaConfig({ brokers: BROKERS, topic }), { onError: () => {} })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  restartBroker('kafka')
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const stats = await queues.flush()
  t.like(stats.custom, { inserted: 2, published: 2, failed: 0 })
  // Wait for the document published after the restart. (The one before it is there too when the
  // broker restarts on its own data, as in CI; a broker started from another checkout of this
  // repository would come back with other data.)
  const after = (messages: Consumed[]) => customValues(messages.map(({ document }) => document)).includes(2)
  const values = customValues((await consume(topic, 1, after)).map(({ document }) => document))
  t.is(values[values.length - 1], 2)
  t.is(values.filter((v) => v === 2).length, 1, 'published once')
  await queues.shutdown()
})

test.serial('Kafka: shutdown(timeoutMs) settles on time when more documents wait than can be in flight', async (t) => {
  // 100 PSI documents for an unreachable broker: the event task blocks on its 64 in-flight slots
  // before it reaches the shutdown; the deadline must still end the wait, and closing the client
  // must not wait for librdkafka's 10-minute message timeout.
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, new KafkaConfig({ brokers: '127.0.0.1:1', topic: uniqueName('nowhere') }), {
    maxPendingItems: 100_000,
    onError: () => {},
  })
  const psi = queues.get('psi')
  for (let i = 0; i < 100_000; i++) psi.insert(Features.fromObject({ feature_0: i % 10 }))
  const started = Date.now()
  const stats = await queues.shutdown(2_000)
  const elapsed = Date.now() - started
  t.true(elapsed < 10_000, `shutdown took ${elapsed} ms`)
  const psiStats = stats.psi!
  t.like(psiStats, { inserted: 100_000, published: 0, pending: 0 })
  t.is(psiStats.dropped + psiStats.failed, 100_000)
  t.true(psiStats.failed >= 64_000, 'at least the documents in flight were failed at the deadline')
})

test.serial('Kafka: a publish made while the broker is down is delivered once it is back', async (t) => {
  const topic = uniqueName('scouter_blip')
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new KafkaConfig({ brokers: BROKERS, topic }), { onError: () => {} })
  // Make sure the topic exists, so that only the broker's absence is tested.
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  stopBroker('kafka')
  try {
    queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
    const flushing = queues.flush()
    startBroker('kafka')
    const stats = await flushing
    t.like(stats.custom, { inserted: 2, published: 2, failed: 0, pending: 0 })
    const values = customValues((await consume(topic, 2)).map(({ document }) => document))
    t.deepEqual(values, [1, 2])
  } finally {
    startBroker('kafka')
    await queues.shutdown()
  }
})
