/**
 * Redis under a hard crash: the server is SIGKILLed mid-stream and started again while the
 * application keeps inserting; the queue must reconnect by itself. Every item is an LLM record
 * carrying `context.id` (sample_rate 1: one record per document).
 *
 * PUBLISH is at-most-once: a message reaches the subscribers connected when the server executes
 * the PUBLISH, and the server replies only after it has queued the message for them. So the exact
 * claim is "every document published while the subscriber was subscribed reached it, and nothing
 * else did", and the test makes both periods observable:
 * - before the kill, the subscriber (generation 1) is subscribed before the queue starts; the
 *   number of documents the queue counted while the server lived (D0, sampled while it is dead,
 *   when nothing can be counted) must equal what it received, which must be ids 0..D0-1 in order.
 *   One document more is possible, not fewer: the kill can fall between the server executing a
 *   PUBLISH and its reply reaching the queue, which then retries it (a duplicate if that retry
 *   reaches the new subscriber). (Fewer would need the kill to fall between the server's write of
 *   the reply and its write to the subscriber, within one event-loop pass: microseconds.)
 * - after the restart, a MONITOR connection is opened first, then a new subscriber (generation 2)
 *   subscribes; MONITOR lists commands in execution order, so the PUBLISHes of this channel after
 *   the SUBSCRIBE are exactly what the subscriber must receive: the multisets must be equal.
 *   (node-redis can resubscribe by itself, but then the moment of its SUBSCRIBE could not be
 *   placed among the PUBLISHes; a fresh subscriber after MONITOR is the same thing, observable.)
 * What the queue published to the new server before that SUBSCRIBE reached nobody, by Redis's
 * contract: those ids are the only ones allowed to be missing.
 *
 * Takes the fault lock (helpers/faults.ts) and always brings the server back.
 */
import { connect, type Socket } from 'node:net'

import test from 'ava'
import { createClient } from 'redis'

import { LLMRecord, RedisConfig, ScouterQueue, type ScouterQueueError, type ServerRecords } from '../ts/index'
import { uniqueName } from './helpers/brokers'
import { profiles } from './helpers/fixtures'
import {
  duplicates, faultLock, killBroker, llmIds, missing, paced, range, recoverBroker, recoverOnExit, sleep, spans, until, upBroker,
} from './helpers/faults'

const ADDRESS = 'redis://127.0.0.1:6379'

/** A subscriber that does not reconnect by itself (a new one is made after the restart). */
async function subscriber(channel: string) {
  const client = createClient({ url: ADDRESS, socket: { reconnectStrategy: false } })
  client.on('error', () => {})
  await client.connect()
  const ids: number[] = []
  await client.subscribe(channel, (message) => ids.push(...llmIds(JSON.parse(message) as ServerRecords)))
  return { ids, close: () => client.quit().catch(() => {}) }
}

/**
 * A MONITOR connection: the PUBLISH (with the document's id) and SUBSCRIBE commands of `channel`,
 * in execution order. Tries to connect every 5 ms until the server answers (so it can be started
 * while the server is still starting, and attach as early as possible).
 */
async function monitor(channel: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await monitorOnce(channel)
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(5)
    }
  }
}

async function monitorOnce(channel: string) {
  const events: Array<{ command: 'publish' | 'subscribe'; id?: number }> = []
  const socket: Socket = connect(6379, '127.0.0.1')
  let pending = ''
  const quoted = `"${channel}"`
  const started = new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.once('close', () => reject(new Error('closed before MONITOR started')))
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8')
      let end: number
      while ((end = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, end)
        pending = pending.slice(end + 2)
        if (line === '+OK') resolve()
        else if (line.startsWith('-')) reject(new Error(line))
        const match = /^\+\S+ \[[^\]]*\] "(\w+)" (".*)$/.exec(line)
        if (match === null) continue
        const command = match[1]!.toLowerCase()
        if (command === 'subscribe' && match[2]!.split(' ').includes(quoted)) events.push({ command })
        if (command === 'publish' && match[2]!.startsWith(`${quoted} `)) {
          const id = /\\"context\\":\{\\"id\\":(\d+)\}/.exec(match[2]!)
          events.push({ command, id: id === null ? -1 : Number(id[1]) })
        }
      }
    })
    socket.once('connect', () => socket.write('MONITOR\r\n'))
  })
  try {
    await started
  } catch (error) {
    socket.destroy()
    throw error
  }
  socket.on('error', () => {})
  return { events, close: () => socket.destroy() }
}

test('Redis: SIGKILL mid-stream and restart: reconnects by itself; the subscriber gets exactly what was published while it was subscribed', async (t) => {
  t.timeout(240_000)
  t.teardown(await faultLock())
  recoverOnExit('redis')
  t.teardown(() => recoverBroker('redis'))
  await upBroker('redis')

  const channel = uniqueName('faults_redis')
  const first = await subscriber(channel)
  t.teardown(first.close)
  const errors: Array<[string, string]> = []
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, new RedisConfig({ address: ADDRESS, channel, maxRetries: 10 }), {
    onError: (error: ScouterQueueError, alias: string) => errors.push([alias, error.message]),
  })
  const llm = queues.get('llm')
  const insert = (id: number) => llm.insert(new LLMRecord({ context: { id } }))

  const started = Date.now()
  let next = 0 // the next id to insert
  const marks = { killedAt: 0, idAtKill: 0, d0: -1, d0Later: -1, servingAt: 0, subscribedAt: 0, idAtSubscribe: 0, republishedAt: 0 }
  let second: Awaited<ReturnType<typeof subscriber>> | undefined
  let watch: Awaited<ReturnType<typeof monitor>> | undefined
  t.teardown(() => {
    watch?.close()
    return second?.close()
  })
  const fault = (async () => {
    await sleep(2_000)
    await killBroker('redis')
    marks.killedAt = Date.now() - started
    marks.idAtKill = next
    await sleep(300) // replies read before the connection dropped are settled by now
    marks.d0 = queues.stats().llm!.documents
    await sleep(1_000)
    marks.d0Later = queues.stats().llm!.documents
    // MONITOR attaches as soon as the new server answers (not when `up` notices, up to 0.5 s
    // later), then the new subscriber: the queue's reconnect may still win the race, and what it
    // publishes before the SUBSCRIBE reaches nobody (counted below, never a failure).
    const serving = upBroker('redis')
    watch = await monitor(channel)
    second = await subscriber(channel)
    marks.subscribedAt = Date.now() - started
    marks.idAtSubscribe = next
    await serving
    marks.servingAt = Date.now() - started
    await until('a document published after the restart', () => queues.stats().llm!.documents > marks.d0, 30_000)
    marks.republishedAt = Date.now() - started
  })()
  let faultError: unknown
  fault.catch((error) => (faultError = error))
  const N = await paced(250, (n) => {
    insert(n)
    next = n + 1
  }, () => faultError !== undefined || (Date.now() - started >= 8_000 && marks.republishedAt > 0 && Date.now() - started >= marks.subscribedAt + 2_000))
  await fault

  const stats = (await queues.shutdown(60_000)).llm!
  /** PUBLISHed ids before and after the SUBSCRIBE of the new subscriber, as MONITOR saw them. */
  const published = () => {
    const events = watch!.events
    const at = events.findIndex((e) => e.command === 'subscribe')
    const ids = (from: number, to: number) => events.slice(from, to).filter((e) => e.command === 'publish').map((e) => e.id!)
    return { beforeSubscribe: ids(0, at), afterSubscribe: at < 0 ? [] : ids(at + 1, events.length) }
  }
  // Everything was replied to before shutdown resolved; let the subscriber and MONITOR catch up.
  for (let quiet = 0, last = ''; quiet < 5; ) {
    await sleep(100)
    const now = `${second!.ids.length}/${watch!.events.length}`
    quiet = now === last ? quiet + 1 : 0
    last = now
  }

  const D0 = marks.d0
  const before = first.ids
  const after = second!.ids
  const { beforeSubscribe, afterSubscribe: expected } = published()
  const all = [...before, ...after]
  const dup = duplicates(all)
  const lost = missing(N, all)
  t.log(
    `N=${N} killed at ${marks.killedAt} ms (id ${marks.idAtKill}), \`up\` returned at ${marks.servingAt} ms, resubscribed at ${marks.subscribedAt} ms` +
      ` (id ${marks.idAtSubscribe}), first document on the new server counted at ${marks.republishedAt} ms; D0=${D0}, received before ${before.length},` +
      ` after ${after.length} (MONITOR: ${expected.length} PUBLISH after the SUBSCRIBE, ${beforeSubscribe.length} before it);` +
      ` published to the new server ${stats.documents - D0}, reaching nobody ${stats.documents - D0 - after.length}; not received ${lost.length}` +
      ` (${spans(lost)}), duplicated ${dup.size} (${spans([...dup.keys()])}); onError ${errors.length}` +
      ` (${[...new Set(errors.map(([alias, m]) => `${alias}: ${m.slice(0, 80)}`))].slice(0, 3).join(' | ')})`,
  )

  // accounting: every item published (maxRetries 10 outlasts the restart), one document per id
  t.like(stats, { inserted: N, sampledOut: 0, dropped: 0, pending: 0, failed: 0, publishFailures: 0, published: N, documents: N })
  t.deepEqual(errors.filter(([alias]) => alias === 'llm'), [], 'no publish of the queue failed')
  // nothing counted while the server is dead
  t.is(marks.d0Later, D0, '`documents` did not move while the server was dead')
  // before the kill: exactly what was counted (or one more whose reply was lost), in order
  t.deepEqual(before, range(before.length))
  t.true(before.length === D0 || before.length === D0 + 1, `received ${before.length} before the kill, counted ${D0}`)
  t.true(watch!.events.some((e) => e.command === 'subscribe'), 'MONITOR saw the SUBSCRIBE')
  // after the restart: exactly the PUBLISHes the server executed after the SUBSCRIBE
  t.deepEqual([...after].sort((a, b) => a - b), [...expected].sort((a, b) => a - b))
  t.is(new Set(after).size, after.length, 'no id twice after the restart')
  t.true(stats.documents - D0 >= after.length + beforeSubscribe.length, 'every PUBLISH on the new server is counted')
  // reconnect without any action: documents were counted on the new server soon after it served
  t.true(marks.republishedAt - marks.subscribedAt <= 10_000, `first document on the new server ${marks.republishedAt - marks.subscribedAt} ms after it served`)
  // only what went to the new server before the SUBSCRIBE may be missing
  t.true(lost.every((id) => id < marks.idAtSubscribe), `not received: ${spans(lost)} (id at resubscribe ${marks.idAtSubscribe})`)
  t.true(beforeSubscribe.every((id) => lost.includes(id) || before.includes(id)), 'a PUBLISH that reached nobody was not repeated')
  t.true([...dup.keys()].every((id) => id === before.length - 1 && before.length === D0 + 1), `duplicated: ${spans([...dup.keys()])}`)
})
