/**
 * RabbitMQ under a hard crash: the broker is SIGKILLed mid-stream and started again while the
 * application keeps inserting, and a consumer (amqplib, no-ack) reconnects after the restart.
 * Every item is an LLM record carrying `context.id` (sample_rate 1: one record per document).
 *
 * What is provable, and asserted. The contract declares the queue with default options, so it is
 * not durable: the restart deletes it with whatever it held, and the broker itself loses every
 * message it had confirmed but not yet delivered to the consumer when it was killed. The queue
 * cannot be blamed for those, and which ones they are is not observable per id. So the consumer
 * tags each message with its connection generation (1 = the broker before the kill, 2 = after),
 * and the test samples `published` while the broker is dead (nothing can be confirmed then), P0:
 *
 * 1. accounting: inserted = published + failed, pending 0, nothing dropped or sampled out; with
 *    maxRetries 10 (at least ~50 s of backoff) an ~8 s restart fails nothing: failed 0;
 * 2. `published` does not move while the broker is dead (nothing counted without a confirm);
 * 3. before the kill the consumer saw ids 0..r0 exactly, in order (one channel, one queue: FIFO);
 * 4. after the restart, the documents the queue counted as published (P - P0, all confirmed by
 *    the new broker, the queue re-declared on reconnect, the consumer attached to it) arrive
 *    exactly: the consumer's generation-2 messages number exactly P - P0, each id once;
 * 5. duplicates (at-least-once) can only be documents received before the kill whose confirm was
 *    lost with the broker, republished after it: ids of generation 1, at most the 64 documents a
 *    queue has in flight;
 * 6. every id that was not received was confirmed by the old broker (it was inserted before the
 *    kill) and is therefore one of the messages the broker lost; their number (B = P0 - r0 - 1 +
 *    duplicates) is reported.
 *
 * Takes the fault lock (helpers/faults.ts) and always brings the broker back.
 */
import test from 'ava'
import amqp from 'amqplib'

import { LLMRecord, RabbitMQConfig, ScouterQueue, type ScouterQueueError, type ServerRecords } from '../ts/index'
import { uniqueName } from './helpers/brokers'
import { profiles } from './helpers/fixtures'
import {
  duplicates, faultLock, killBroker, llmIds, missing, paced, range, recoverBroker, recoverOnExit, sleep, spans, until, upBroker,
} from './helpers/faults'

const ADDRESS = 'amqp://guest:guest@127.0.0.1:5672/%2f'

/** A no-ack consumer of `queue` that reconnects (every 100 ms) once the queue exists again. */
class ReconnectingConsumer {
  generation = 0
  received: Array<{ id: number; generation: number }> = []
  attachedAt: number[] = []
  #stopped = false
  #connection: amqp.ChannelModel | undefined
  #channel: amqp.Channel | undefined

  constructor(readonly queue: string) {}

  /** Connects and consumes; resolves once attached. Reattaches by itself after a connection loss. */
  async start(): Promise<void> {
    while (!this.#stopped) {
      try {
        const connection = await amqp.connect(ADDRESS)
        connection.on('error', () => {})
        try {
          const channel = await connection.createChannel()
          channel.on('error', () => {})
          await channel.checkQueue(this.queue) // the queue's own declaration, not ours
          const generation = ++this.generation
          await channel.consume(this.queue, (message) => {
            if (message === null) return
            for (const id of llmIds(JSON.parse(message.content.toString('utf8')) as ServerRecords)) this.received.push({ id, generation })
          }, { noAck: true })
          this.#connection = connection
          this.#channel = channel
          this.attachedAt.push(Date.now())
          connection.once('close', () => {
            this.#connection = undefined
            this.#channel = undefined
            if (!this.#stopped) void this.start()
          })
          return
        } catch {
          await connection.close().catch(() => {})
        }
      } catch {
        // the broker is down or starting
      }
      await sleep(100)
    }
  }

  /** Messages still in the queue (not yet delivered), or undefined when not attached. */
  async backlog(): Promise<number | undefined> {
    return this.#channel === undefined ? undefined : (await this.#channel.checkQueue(this.queue)).messageCount
  }

  async stop(deleteQueue: boolean): Promise<void> {
    this.#stopped = true
    if (deleteQueue) await this.#channel?.deleteQueue(this.queue).catch(() => {})
    await this.#connection?.close().catch(() => {})
  }
}

test('RabbitMQ: SIGKILL mid-stream and restart: exact accounting, everything confirmed after the restart arrives once', async (t) => {
  t.timeout(240_000)
  t.teardown(await faultLock())
  recoverOnExit('rabbitmq')
  t.teardown(() => recoverBroker('rabbitmq'))
  await upBroker('rabbitmq')

  const queue = uniqueName('faults_rabbitmq')
  const errors: Array<[string, string]> = []
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, new RabbitMQConfig({ address: ADDRESS, queue, maxRetries: 10 }), {
    onError: (error: ScouterQueueError, alias: string) => errors.push([alias, error.message]),
  })
  const llm = queues.get('llm')
  const insert = (id: number) => llm.insert(new LLMRecord({ context: { id } }))

  // id 0 first and flushed: the queue exists (declared by the transport) before the consumer.
  insert(0)
  t.like((await queues.flush()).llm, { published: 1, failed: 0 })
  const consumer = new ReconnectingConsumer(queue)
  t.teardown(() => consumer.stop(true))
  await consumer.start()

  const started = Date.now()
  let next = 1 // the next id to insert
  const marks = { killedAt: 0, idAtKill: 0, p0: -1, p0Later: -1, servingAt: 0, idAtServing: 0, reattachedAt: 0 }
  const fault = (async () => {
    await sleep(2_000)
    await killBroker('rabbitmq')
    marks.killedAt = Date.now() - started
    marks.idAtKill = next
    await sleep(300) // confirmations read before the connection dropped are settled by now
    marks.p0 = queues.stats().llm!.published
    await sleep(1_000)
    marks.p0Later = queues.stats().llm!.published
    await upBroker('rabbitmq')
    marks.servingAt = Date.now() - started
    marks.idAtServing = next
    await until('the consumer to reattach', () => consumer.generation >= 2, 60_000)
    marks.reattachedAt = Date.now() - started
  })()
  let faultError: unknown
  fault.catch((error) => (faultError = error))
  const streamed = await paced(250, (n) => {
    insert(n + 1)
    next = n + 2
  }, () => faultError !== undefined || (Date.now() - started >= 8_000 && marks.reattachedAt > 0 && Date.now() - started >= marks.reattachedAt + 1_500))
  await fault
  const N = 1 + streamed

  const stats = (await queues.shutdown(60_000)).llm!
  const P0 = marks.p0
  const generation2 = () => consumer.received.filter((m) => m.generation === 2)
  // Wait for the documents confirmed after the restart, then until the queue is empty and
  // nothing more arrives for 500 ms (so that a duplicate would be seen).
  await until('the documents confirmed after the restart', () => generation2().length >= stats.published - P0, 60_000).catch(() => {})
  for (let quiet = 0, last = -1; quiet < 5; ) {
    await sleep(100)
    const count = consumer.received.length
    quiet = count === last && (await consumer.backlog()) === 0 ? quiet + 1 : 0
    last = count
  }

  const before = consumer.received.filter((m) => m.generation === 1).map((m) => m.id)
  const after = generation2().map((m) => m.id)
  const all = consumer.received.map((m) => m.id)
  const dup = duplicates(all)
  const lost = missing(N, all)
  const r0 = before.length - 1
  const brokerLost = P0 - before.length + dup.size
  t.log(
    `N=${N} killed at ${marks.killedAt} ms (id ${marks.idAtKill}), serving again at ${marks.servingAt} ms (id ${marks.idAtServing}),` +
      ` consumer back at ${marks.reattachedAt} ms; P0=${P0} received before the kill ${before.length} (ids 0..${r0}),` +
      ` after ${after.length} (published after the restart ${stats.published - P0}); duplicates ${dup.size} (${spans([...dup.keys()])});` +
      ` not received ${lost.length} (${spans(lost)}) = lost by the broker; published ${stats.published} failed ${stats.failed};` +
      ` onError ${errors.length} (${[...new Set(errors.map(([alias, m]) => `${alias}: ${m.slice(0, 80)}`))].slice(0, 3).join(' | ')})`,
  )

  // 1. accounting
  t.like(stats, { inserted: N, sampledOut: 0, dropped: 0, pending: 0, failed: 0, publishFailures: 0, published: N, documents: N })
  t.deepEqual(errors.filter(([alias]) => alias === 'llm'), [], 'no publish of the queue failed')
  // 2. nothing is counted published while the broker is dead
  t.is(marks.p0Later, P0, '`published` did not move while the broker was dead')
  // 3. before the kill: exactly 0..r0, in order
  t.deepEqual(before, range(before.length))
  t.true(before.length <= P0 + 64, 'received before the kill: confirmed ones plus at most the 64 in flight')
  // 4. after the restart: exactly what was confirmed after it, each once
  t.is(after.length, stats.published - P0, 'every document confirmed after the restart arrived, and nothing else')
  t.is(new Set(after).size, after.length, 'no id twice after the restart')
  t.true(after.every((id) => id > r0 - 64 && id < N))
  // 5. duplicates: only ids received before the kill and republished, at most the in-flight window
  t.true([...dup.keys()].every((id) => id <= r0 && id > r0 - 64), `duplicated ids: ${spans([...dup.keys()])}`)
  t.true([...dup.values()].every((count) => count === 2))
  // 6. what was not received was inserted before the kill, after r0: lost by the broker
  t.true(lost.every((id) => id > r0 && id < marks.idAtKill), `not received: ${spans(lost)} (r0 ${r0}, id at kill ${marks.idAtKill})`)
  t.is(lost.length, brokerLost, 'not received = confirmed by the old broker but not delivered before the kill')
  t.true(marks.idAtServing < N, 'ids were inserted after the broker served again')
})
