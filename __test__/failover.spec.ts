/**
 * Failover chains, with two Mock transports standing in for a broker and its fallback: where each
 * document goes as a transport fails, hangs and recovers, the exact per-transport stats, the
 * events `onEvent` receives and their order, and the checks on the list and the options. Every
 * LLM record (sample_rate 1) is its own document and carries `context.id`, so each transport's
 * documents are known exactly. Inserts are flushed one at a time where the order of failures
 * matters.
 */
import test from 'ava'

import {
  ConfigError,
  LLMRecord,
  MockConfig,
  ScouterQueue,
  type ScouterQueueError,
  type TransportConnectionEvent,
  type TransportStateEvent,
  type ScouterQueueOptions,
  type TransportStats,
} from '../ts/index'
import { profiles } from './helpers/fixtures'
import { llmIds, sleep, until } from './helpers/faults'
import { scaled } from './helpers/slowdown'

/** The ids that reached a Mock transport, in order. */
const ids = (mock: MockConfig) => mock.documents().flatMap(llmIds)

/** The switches received so far as `index from->to`. */
const switches = (events: TransportStateEvent[]) => events.map((e) => `${e.index} ${e.from}->${e.to}`)

/** Two Mock transports without retries, the queues over them, and what they report. */
async function open(options: ScouterQueueOptions = {}) {
  const primary = new MockConfig({ maxRetries: 0 })
  const secondary = new MockConfig({ maxRetries: 0 })
  const events: TransportStateEvent[] = []
  const links: TransportConnectionEvent[] = []
  const errors: string[] = []
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm, custom: profiles.custom }, [primary, secondary], {
    failureThreshold: 3,
    failureTimeoutMs: 60_000,
    probeIntervalMs: scaled(300),
    onEvent: (event) => (event.type === 'transport-state' ? events.push(event) : links.push(event)),
    onError: (error: ScouterQueueError, alias: string) => errors.push(`${alias}: ${error.message}`),
    ...options,
  })
  let next = 0
  /** Inserts the next id and waits until it settled. */
  const send = async () => {
    queues.get('llm').insert(new LLMRecord({ context: { id: next++ } }))
    await queues.flush()
  }
  return { primary, secondary, events, links, errors, queues, send }
}

/** The per-transport stats without the switch time. */
const counts = (transports: readonly TransportStats[]) => transports.map(({ lastSwitchAt: _, ...rest }) => rest)

test('failover: documents move to the next transport, the probe fails back, stats and events are exact', async (t) => {
  const { primary, secondary, events, links, errors, queues, send } = await open()
  const started = Date.now()
  for (let i = 0; i < 2; i++) await send() // ids 0, 1: primary
  primary.setFailing(true, { retryable: false })
  for (let i = 0; i < 5; i++) await send() // ids 2-6: secondary (2-4 failed on primary first)
  await until('the open event', () => events.length >= 1)
  t.deepEqual(switches(events), ['0 closed->open'])
  t.like(events[0], { type: 'transport-state', transport: 'mock', index: 0, from: 'closed', to: 'open' })
  t.regex(events[0]!.reason, /^3 documents in a row failed; the last: mock transport: injected permanent failure$/)
  t.true(events[0]!.at instanceof Date && events[0]!.at.getTime() >= started)
  t.deepEqual(counts(queues.stats().llm!.transports), [
    { name: 'mock', state: 'open', published: 2, failed: 3, inDoubt: 0 },
    { name: 'mock', state: 'closed', published: 5, failed: 0, inDoubt: 0 },
  ])

  // The probe, once due, fails: open again; the document moves on.
  await sleep(scaled(350))
  await send() // id 7: probe on primary fails, secondary confirms
  await until('the probe events', () => events.length >= 3)
  t.deepEqual(switches(events.slice(1)), ['0 open->half-open', '0 half-open->open'])
  t.regex(events[2]!.reason, /^the probe failed: mock transport: injected permanent failure$/)

  // Recovered: the next probe closes it and traffic returns.
  primary.setFailing(false)
  await sleep(scaled(350))
  await send() // id 8: the probe, confirmed
  for (let i = 0; i < 2; i++) await send() // ids 9, 10: primary again
  await until('the fail-back events', () => events.length >= 5)
  t.deepEqual(switches(events.slice(3)), ['0 open->half-open', '0 half-open->closed'])
  t.is(events[4]!.reason, 'the probe was confirmed')

  const stats = await queues.shutdown()
  t.like(stats.llm, { inserted: 11, published: 11, failed: 0, documents: 11, publishFailures: 0, pending: 0 })
  t.deepEqual(counts(stats.llm!.transports), [
    { name: 'mock', state: 'closed', published: 5, failed: 4, inDoubt: 0 },
    { name: 'mock', state: 'closed', published: 6, failed: 0, inDoubt: 0 },
  ])
  t.is(stats.llm!.transports[0]!.lastSwitchAt?.getTime(), events[4]!.at.getTime())
  t.is(stats.llm!.transports[1]!.lastSwitchAt, null)
  // Breaker states belong to the transports, counts to each alias.
  t.deepEqual(counts(stats.custom!.transports), [
    { name: 'mock', state: 'closed', published: 0, failed: 0, inDoubt: 0 },
    { name: 'mock', state: 'closed', published: 0, failed: 0, inDoubt: 0 },
  ])
  t.deepEqual(ids(primary), [0, 1, 8, 9, 10])
  t.deepEqual(ids(secondary), [2, 3, 4, 5, 6, 7])
  t.is(primary.attempts(), 2 + 3 + 1 + 1 + 2)
  t.deepEqual(errors, [], 'nothing was lost, so nothing reached onError')
  t.is(events.length, 5)
  // Each transport connected once, at its first confirmed document; permanent failures (a
  // refusal) say nothing about the link, so no transport was reported unreachable.
  t.deepEqual(
    links.map(({ type, index, connected, reason }) => ({ type, index, connected, reason })),
    [
      { type: 'transport-connection', index: 0, connected: true, reason: 'first document confirmed' },
      { type: 'transport-connection', index: 1, connected: true, reason: 'first document confirmed' },
    ],
  )
})

test('connection events: a retryable failure reports the transport unreachable once, the next confirmation reports it back; the logger says so', async (t) => {
  const mock = new MockConfig({ maxRetries: 5 })
  const links: TransportConnectionEvent[] = []
  const lines: string[] = []
  const logger = { debug: () => {}, info: (line: string) => lines.push(`info ${line}`), warn: (line: string) => lines.push(`warn ${line}`), error: (line: string) => lines.push(`error ${line}`) }
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock, {
    logger,
    onEvent: (event) => void (event.type === 'transport-connection' && links.push(event)),
  })
  queues.get('llm').insert(new LLMRecord({ context: { id: 0 } }))
  await queues.flush()
  mock.failNext(3, { retryable: true })
  queues.get('llm').insert(new LLMRecord({ context: { id: 1 } }))
  await queues.flush()
  mock.failNext(1, { retryable: false })
  queues.get('llm').insert(new LLMRecord({ context: { id: 2 } }))
  await queues.flush()
  const stats = await queues.shutdown()
  t.like(stats.llm, { inserted: 3, published: 2, failed: 1 })
  t.deepEqual(
    links.map(({ transport, index, connected }) => ({ transport, index, connected })),
    [
      { transport: 'mock', index: 0, connected: true },
      { transport: 'mock', index: 0, connected: false },
      { transport: 'mock', index: 0, connected: true },
    ],
  )
  t.is(links[0]!.reason, 'first document confirmed')
  t.regex(links[1]!.reason, /^mock transport: injected (retryable )?failure/)
  t.regex(links[2]!.reason, /^confirming again after 3 failed attempts over \d+\.\d s$/)
  t.true(links.every((link) => link.at instanceof Date))
  const linkLines = lines.filter((line) => line.includes('transport mock (#0)'))
  t.deepEqual(linkLines.map((line) => line.replace(' scouter-queue: ', ' ').replace(/: .*$/, '')), [
    'info transport mock (#0) connected',
    'warn transport mock (#0) unreachable, retrying',
    'info transport mock (#0) connected',
  ])
})

test('failover: a document unconfirmed for failureTimeoutMs opens the breaker and is handed to the next transport, in doubt', async (t) => {
  const { primary, secondary, events, queues } = await open({ failureTimeoutMs: scaled(200) })
  primary.setLatencyMs(60_000)
  queues.get('llm').insert(new LLMRecord({ context: { id: 0 } }))
  queues.get('llm').insert(new LLMRecord({ context: { id: 1 } }))
  const stats = (await queues.flush()).llm!
  await until('the open event', () => events.length >= 1)
  t.deepEqual(switches(events), ['0 closed->open'])
  t.is(events[0]!.reason, `a document has been unconfirmed for ${scaled(200)} ms (failureTimeoutMs)`)
  // Both were handed to the hung transport at once; after 200 ms each moved on when its own wait
  // ran out, so they may reach the second transport in either order. The Mock transport drops
  // what it was given up on; a real broker might still deliver it (in doubt).
  t.deepEqual(ids(primary), [])
  t.deepEqual(ids(secondary).sort(), [0, 1])
  t.like(stats, { published: 2, failed: 0 })
  t.deepEqual(counts(stats.transports), [
    { name: 'mock', state: 'open', published: 0, failed: 2, inDoubt: 2 },
    { name: 'mock', state: 'closed', published: 2, failed: 0, inDoubt: 0 },
  ])
  // Open: the next document goes straight to the second transport.
  queues.get('llm').insert(new LLMRecord({ context: { id: 2 } }))
  await queues.shutdown()
  t.is(ids(secondary)[2], 2)
  t.is(primary.attempts(), 2)
})

test('failover: when every transport fails, documents fail, name each transport, and count per transport', async (t) => {
  const { primary, secondary, events, errors, queues, send } = await open({ failureThreshold: 2 })
  primary.setFailing(true, { retryable: false })
  secondary.setFailing(true, { retryable: false })
  for (let i = 0; i < 3; i++) await send()
  await until('both open', () => events.length >= 2)
  t.deepEqual(switches(events), ['0 closed->open', '1 closed->open'])
  const stats = (await queues.shutdown()).llm!
  t.like(stats, { inserted: 3, published: 0, failed: 3, publishFailures: 3 })
  // Ids 0 and 1 failed on both; id 2 found both open and went to the transport whose probe is
  // due soonest (the first: both opened at once), then, forced too, to the other: a document
  // fails only once every transport failed it.
  t.deepEqual(counts(stats.transports), [
    { name: 'mock', state: 'open', published: 0, failed: 3, inDoubt: 0 },
    { name: 'mock', state: 'open', published: 0, failed: 3, inDoubt: 0 },
  ])
  await until('three errors', () => errors.length >= 3)
  t.is(
    errors[0],
    'llm: mock transport: injected permanent failure (failed before on: mock transport: injected permanent failure)',
  )
  t.is(errors[2], errors[0])
})

test('a single transport is a chain of one: one entry in stats().transports; transportConfig(s)', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock)
  queues.get('llm').insert(new LLMRecord({ context: { id: 0 } }))
  const stats = (await queues.shutdown()).llm!
  t.deepEqual(stats.transports, [{ name: 'mock', state: 'closed', published: 1, failed: 0, inDoubt: 0, lastSwitchAt: null }])
  t.is(queues.transportConfig, mock)
  t.deepEqual(queues.transportConfigs, [mock])

  const [first, second] = [new MockConfig(), new MockConfig()]
  const list = [first, second]
  const chained = await ScouterQueue.fromPath({ llm: profiles.llm }, list)
  t.is(chained.transportConfig, first)
  t.deepEqual(chained.transportConfigs, [first, second])
  t.not(chained.transportConfigs, list, 'a copy: changing the list given changes nothing')
  t.true(Object.isFrozen(chained.transportConfigs))
  await chained.shutdown()
})

test('fromPath refuses an empty list, a list holding something else than configs, and the same config twice', async (t) => {
  const mock = new MockConfig()
  const refused = async (transport: unknown, message: RegExp) => {
    await t.throwsAsync(ScouterQueue.fromPath({ llm: profiles.llm }, transport as MockConfig), { instanceOf: TypeError, message })
  }
  await refused([], /the list of transports must not be empty/)
  await refused([mock, {}], /transport 1 of the list must be a transport config such as new FileConfig\(\), got/)
  await refused([mock, null], /transport 1 of the list must be a transport config/)
  await refused([mock, mock], /transport 1 of the list is the same config as transport 0/)
  await refused('kafka', /transport must be a transport config such as new FileConfig\(\), or a list of them, got/)
  await t.throwsAsync(ScouterQueue.fromPath({ llm: profiles.llm }, mock, { onEvent: 'log' as never }), {
    instanceOf: TypeError,
    message: /onEvent must be a function/,
  })
})

test('breaker options are checked against the option table: a ConfigError naming the option', async (t) => {
  const cases: Array<[keyof ScouterQueueOptions, unknown, RegExp]> = [
    ['failureThreshold', 0, /option `failureThreshold` must be a whole number from 1 to 4294967295, got 0/],
    ['failureThreshold', 1.5, /option `failureThreshold` must be a whole number/],
    ['failureThreshold', 2 ** 32, /option `failureThreshold`/],
    ['failureTimeoutMs', 0, /option `failureTimeoutMs` must be a number of milliseconds from 1 to 2147483647, got 0/],
    ['failureTimeoutMs', -1, /option `failureTimeoutMs`/],
    ['failureTimeoutMs', Number.NaN, /option `failureTimeoutMs`/],
    ['probeIntervalMs', Number.POSITIVE_INFINITY, /option `probeIntervalMs`/],
    ['probeIntervalMs', 2 ** 31, /option `probeIntervalMs`/],
  ]
  for (const [option, value, message] of cases) {
    await t.throwsAsync(ScouterQueue.fromPath({ llm: profiles.llm }, [new MockConfig(), new MockConfig()], { [option]: value }), {
      instanceOf: ConfigError,
      message,
    })
  }
  await t.throwsAsync(ScouterQueue.fromPath({ llm: profiles.llm }, new MockConfig(), { failureThreshold: '3' as never }), {
    instanceOf: TypeError,
    message: /failureThreshold must be a number/,
  })
})

test('an onEvent that throws or rejects becomes a SCOUTER_ON_EVENT_THREW warning, and delivery goes on', async (t) => {
  const warnings: Error[] = []
  const onWarning = (warning: Error) => {
    if ((warning as { code?: string }).code === 'SCOUTER_ON_EVENT_THREW') warnings.push(warning)
  }
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  let calls = 0
  const { primary, secondary, queues, send } = await open({
    failureThreshold: 1,
    onEvent: async () => {
      calls++
      throw new Error('boom in user code')
    },
  })
  primary.setFailing(true, { retryable: false })
  await send()
  // Two events: the primary opened, the secondary connected (its first confirmation).
  await until('the warnings', () => warnings.length >= 2, 5_000)
  t.is(calls, 2)
  t.regex(warnings[0]!.message, /^scouter-queue: onEvent rejected: Error: boom in user code$/)
  await send()
  t.deepEqual(ids(secondary), [0, 1])
  await queues.shutdown()
})
