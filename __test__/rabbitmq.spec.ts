/**
 * The RabbitMQ transport against a real broker on 127.0.0.1:5672 (started by
 * scripts/services.sh). Serial: the last test restarts the broker.
 */
import { inspect } from 'node:util'

import test from 'ava'
import amqp from 'amqplib'

import { Metrics, RabbitMQConfig, ScouterQueue, type ScouterQueueError, type ServerRecords } from '../ts/index'
import { assertKnownSet, assertKnownStats, insertKnownSet, knownSetProfiles, restartBroker, startBroker, stopBroker, uniqueName } from './helpers/brokers'
import { withEnv } from './helpers/env'
import { customValues, profiles } from './helpers/fixtures'

const ADDRESS = 'amqp://guest:guest@127.0.0.1:5672/%2f'

/** Takes every message now in `queue`, checking each is persistent JSON. */
async function drain(t: { is: (a: unknown, b: unknown, m?: string) => void }, queue: string): Promise<ServerRecords[]> {
  const connection = await amqp.connect(ADDRESS)
  try {
    const channel = await connection.createChannel()
    const documents: ServerRecords[] = []
    for (;;) {
      const message = await channel.get(queue, { noAck: true })
      if (message === false) break
      t.is(message.properties.deliveryMode, 2, 'persistent')
      documents.push(JSON.parse(message.content.toString('utf8')) as ServerRecords)
    }
    await channel.deleteQueue(queue)
    return documents
  } finally {
    await connection.close()
  }
}

test.serial('RabbitMQ: every drift kind is published to the queue exactly, persistent and confirmed', async (t) => {
  const queue = uniqueName('scouter_test')
  const queues = await ScouterQueue.fromPath(knownSetProfiles, new RabbitMQConfig({ address: ADDRESS, queue }))
  const known = insertKnownSet(queues)
  assertKnownStats(t, await queues.flush())
  // flush resolved on the broker's confirms: the messages are in the queue now.
  assertKnownSet(t, await drain(t, queue), known)
  await queues.shutdown()
})

test.serial('RabbitMQ: flushing does not close the channel; later publishes still go out', async (t) => {
  const queue = uniqueName('scouter_flush')
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new RabbitMQConfig({ address: ADDRESS, queue }))
  for (let round = 1; round <= 3; round++) {
    queues.get('custom').insert(Metrics.fromObject({ mae: round }))
    await queues.flush()
  }
  const values = customValues(await drain(t, queue))
  t.deepEqual(values, [1, 2, 3])
  await queues.shutdown()
})

test.serial('RabbitMQ: two fromPath on the same queue both arrive', async (t) => {
  const queue = uniqueName('scouter_shared')
  const a = await ScouterQueue.fromPath({ custom: profiles.custom }, new RabbitMQConfig({ address: ADDRESS, queue }))
  const b = await ScouterQueue.fromPath({ custom: profiles.custom }, new RabbitMQConfig({ address: ADDRESS, queue }))
  a.get('custom').insert(Metrics.fromObject({ mae: 10 }))
  b.get('custom').insert(Metrics.fromObject({ mae: 20 }))
  await Promise.all([a.flush(), b.flush()])
  const values = customValues(await drain(t, queue)).sort()
  t.deepEqual(values, [10, 20])
  await Promise.all([a.shutdown(), b.shutdown()])
})

test.serial('RabbitMQ: address falls back to RABBITMQ_ADDR, else host/port/credentials; secrets never show', (t) => {
  const keys = ['RABBITMQ_ADDR', 'RABBITMQ_HOST', 'RABBITMQ_PORT', 'RABBITMQ_USERNAME', 'RABBITMQ_PASSWORD', 'RABBITMQ_QUEUE'] as const
  withEnv(Object.fromEntries(keys.map((key) => [key, undefined])), () => {
  t.like(new RabbitMQConfig(), { address: 'amqp://localhost:5672/%2f', queue: 'scouter_monitoring', maxRetries: 3 })
  process.env.RABBITMQ_HOST = 'mq.internal'
  process.env.RABBITMQ_PORT = '5673'
  process.env.RABBITMQ_USERNAME = 'svc'
  process.env.RABBITMQ_PASSWORD = 'pa55-word'
  process.env.RABBITMQ_QUEUE = 'env_queue'
  const fromEnv = new RabbitMQConfig()
  t.like(fromEnv, { address: 'amqp://svc:[redacted]@mq.internal:5673/%2f', queue: 'env_queue' })
  for (const printed of [String(fromEnv), JSON.stringify(fromEnv), inspect(fromEnv)]) {
    t.false(printed.includes('pa55-word'), printed)
  }
  process.env.RABBITMQ_ADDR = 'amqp://a:b@elsewhere:1/%2f'
  t.is(new RabbitMQConfig().address, 'amqp://a:[redacted]@elsewhere:1/%2f')
  t.is(new RabbitMQConfig({ address: 'amqp://x:5672/%2f' }).address, 'amqp://x:5672/%2f')
  process.env.RABBITMQ_PORT = 'not-a-port'
  delete process.env.RABBITMQ_ADDR
  t.throws(() => new RabbitMQConfig(), { code: 'SCOUTER_CONFIG_INVALID', message: /RABBITMQ_PORT/ })
  })
})

test.serial('RabbitMQ: a broker that is not there is reported through onError without hanging', async (t) => {
  const errors: Array<[ScouterQueueError, string]> = []
  const queues = await ScouterQueue.fromPath(
    { custom: profiles.custom },
    new RabbitMQConfig({ address: 'amqp://guest:guest@127.0.0.1:1/%2f', maxRetries: 1 }),
    { onError: (error, alias) => errors.push([error, alias]) },
  )
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.shutdown()
  t.like(stats.custom, { inserted: 1, failed: 1, pending: 0 })
  t.is(errors.length, 1)
  t.regex(errors[0]![0].message, /rabbitmq.*cannot connect to amqp:\/\/guest:\[redacted\]@127\.0\.0\.1:1/)
  t.false(errors[0]![0].message.includes('guest@'), 'the password is not in the message')
  await t.throwsAsync(
    ScouterQueue.fromPath({ custom: profiles.custom }, new RabbitMQConfig({ address: 'amqp://127.0.0.1:1/%2f' }), { connectTimeoutMs: 2000 }),
    { code: 'SCOUTER_CONFIG_INVALID', message: /could not connect the rabbitmq transport/ },
  )
})

test.serial('RabbitMQ: after a broker restart the next publish arrives without restarting the queue', async (t) => {
  const queue = uniqueName('scouter_restart')
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new RabbitMQConfig({ address: ADDRESS, queue }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  restartBroker('rabbitmq')
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const stats = await queues.flush()
  t.like(stats.custom, { inserted: 2, published: 2, failed: 0 })
  // The queue was declared with default options (not durable), as the original does: the
  // restart emptied it, so only the second document is there.
  const values = customValues(await drain(t, queue))
  t.deepEqual(values, [2])
  await queues.shutdown()
})

test.serial('RabbitMQ: a message returned as unroutable is a failed publish, not retried', async (t) => {
  const queue = uniqueName('scouter_unroutable')
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new RabbitMQConfig({ address: ADDRESS, queue }), {
    onError: (error) => errors.push(error),
  })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  // Delete the queue behind the publisher's back: the next mandatory message has nowhere to go.
  t.deepEqual((await drain(t, queue)).length, 1)
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const stats = await queues.flush()
  t.like(stats.custom, { inserted: 2, published: 1, failed: 1, publishFailures: 1 })
  t.is(errors.length, 1)
  t.regex(errors[0]!.message, /unroutable/)
  await queues.shutdown()
})

test.serial('RabbitMQ: a publish made while the broker is down is delivered once it is back', async (t) => {
  const queue = uniqueName('scouter_blip')
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new RabbitMQConfig({ address: ADDRESS, queue, maxRetries: 10 }), {
    onError: () => {},
  })
  stopBroker('rabbitmq')
  try {
    queues.get('custom').insert(Metrics.fromObject({ mae: 7 }))
    const flushing = queues.flush()
    startBroker('rabbitmq')
    const stats = await flushing
    t.like(stats.custom, { inserted: 1, published: 1, failed: 0, pending: 0 })
    const values = customValues(await drain(t, queue))
    t.deepEqual(values, [7])
  } finally {
    startBroker('rabbitmq')
    await queues.shutdown()
  }
})
