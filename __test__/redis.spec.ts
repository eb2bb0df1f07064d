/**
 * The Redis transport against a real redis-server on 127.0.0.1:6379 (started by
 * scripts/services.sh). Serial: the last test restarts the server.
 */
import test from 'ava'
import { createClient } from 'redis'

import { inspect } from 'node:util'

import { Metrics, RedisConfig, ScouterQueue, type ScouterQueueError, type ServerRecords } from '../ts/index'
import { KNOWN_SET_DOCUMENTS, assertKnownSet, assertKnownStats, insertKnownSet, knownSetProfiles, restartBroker, startBroker, stopBroker, uniqueName, waitFor } from './helpers/brokers'
import { withEnv } from './helpers/env'
import { profiles } from './helpers/fixtures'

const ADDRESS = 'redis://127.0.0.1:6379'

/** Subscribes to `channel` (pub/sub keeps nothing, so before publishing) and collects documents. */
async function subscribe(channel: string) {
  const client = createClient({ url: ADDRESS })
  await client.connect()
  const documents: ServerRecords[] = []
  await client.subscribe(channel, (message) => documents.push(JSON.parse(message) as ServerRecords))
  return { documents, close: () => client.quit() }
}

test.serial('Redis: every drift kind is published to the channel exactly', async (t) => {
  const channel = uniqueName('scouter_test')
  const subscriber = await subscribe(channel)
  const queues = await ScouterQueue.fromPath(knownSetProfiles, new RedisConfig({ address: ADDRESS, channel }))
  const known = insertKnownSet(queues)
  const stats = await queues.flush()
  assertKnownStats(t, stats)
  await waitFor('the known set', () => subscriber.documents.length >= KNOWN_SET_DOCUMENTS)
  assertKnownSet(t, subscriber.documents, known)
  await queues.shutdown()
  await subscriber.close()
})

test.serial('Redis: options fall back to REDIS_ADDR and REDIS_CHANNEL, then the defaults', (t) => {
  withEnv({ REDIS_ADDR: undefined, REDIS_CHANNEL: undefined }, () => {
    t.like(new RedisConfig(), { address: 'redis://127.0.0.1:6379', channel: 'scouter_monitoring', maxRetries: 3 })
  })
  withEnv({ REDIS_ADDR: 'redis://10.0.0.9:6380', REDIS_CHANNEL: 'from_env' }, () => {
    t.like(new RedisConfig(), { address: 'redis://10.0.0.9:6380', channel: 'from_env' })
    t.like(new RedisConfig({ channel: 'explicit' }), { channel: 'explicit' })
  })
})

test.serial('Redis: a password in the address never shows', (t) => {
  const config = new RedisConfig({ address: 'redis://user:s3cret-pw@127.0.0.1:6379' })
  for (const printed of [String(config), JSON.stringify(config), inspect(config), config.address]) {
    t.false(printed.includes('s3cret-pw'), printed)
    t.true(printed.includes('[redacted]'), printed)
  }
})

test.serial('Redis: a server that is not there is reported through onError without hanging', async (t) => {
  const errors: Array<[ScouterQueueError, string]> = []
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new RedisConfig({ address: 'redis://127.0.0.1:1', maxRetries: 1 }), {
    onError: (error, alias) => errors.push([error, alias]),
  })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.shutdown()
  t.like(stats.custom, { inserted: 1, failed: 1, pending: 0 })
  t.is(errors.length, 1)
  t.is(errors[0]![1], 'custom')
  t.regex(errors[0]![0].message, /redis.*cannot connect to redis:\/\/127\.0\.0\.1:1/)
  await t.throwsAsync(
    ScouterQueue.fromPath({ custom: profiles.custom }, new RedisConfig({ address: 'redis://127.0.0.1:1' }), { connectTimeoutMs: 2000 }),
    { code: 'SCOUTER_CONFIG_INVALID', message: /could not connect the redis transport within 2000 ms/ },
  )
})

test.serial('Redis: after a server restart the next publish arrives without restarting the queue', async (t) => {
  const channel = uniqueName('scouter_restart')
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new RedisConfig({ address: ADDRESS, channel }))
  let subscriber = await subscribe(channel)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  await waitFor('the first document', () => subscriber.documents.length === 1)
  await subscriber.close().catch(() => {})

  restartBroker('redis')
  subscriber = await subscribe(channel)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.flush()
  await waitFor('the second document', () => subscriber.documents.length === 1)
  t.like(stats.custom, { inserted: 2, published: 2, failed: 0 })
  await queues.shutdown()
  await subscriber.close()
})

test.serial('Redis: a publish made while the server is down is delivered once it is back', async (t) => {
  const channel = uniqueName('scouter_blip')
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new RedisConfig({ address: ADDRESS, channel, maxRetries: 10 }), {
    onError: () => {},
  })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  stopBroker('redis')
  try {
    queues.get('custom').insert(Metrics.fromObject({ mae: 3 }))
    const flushing = queues.flush()
    startBroker('redis')
    // PUBLISH is done when the server replies (pub/sub keeps nothing for late subscribers), so
    // what matters is that the attempt made while it was down was retried, not failed.
    const stats = await flushing
    t.like(stats.custom, { inserted: 2, published: 2, failed: 0, pending: 0 })
  } finally {
    startBroker('redis')
    await queues.shutdown()
  }
})
