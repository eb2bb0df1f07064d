/**
 * What the queues tell the people who run them: the diagnostics channels (`scouter-queue:publish`,
 * `:error`, `:drop`, `:transport-state`) and the `logger` option, with `SCOUTER_LOG_LEVEL`.
 */
import diagnostics = require('node:diagnostics_channel')

import test from 'ava'

import native = require('../ts/native')
import {
  CHANNELS,
  ConfigError,
  Features,
  Metrics,
  MockConfig,
  ScouterQueue,
  TransportError,
  type DropMessage,
  type ErrorMessage,
  type PublishMessage,
  type ScouterQueueEvent,
  type TransportStateEvent,
} from '../ts/index'
import { withEnv } from './helpers/env'
import { profiles } from './helpers/fixtures'

/** Collects what `name` publishes until the returned function is called. */
function listen<T>(name: string): { messages: T[]; stop: () => void } {
  const messages: T[] = []
  const handler = (message: unknown) => messages.push(message as T)
  diagnostics.subscribe(name, handler)
  return { messages, stop: () => diagnostics.unsubscribe(name, handler) }
}

/** A logger that keeps `[level, line]`. */
function recordingLogger(): { lines: Array<[string, string]>; logger: Record<'debug' | 'info' | 'warn' | 'error', (line: string) => void> } {
  const lines: Array<[string, string]> = []
  const at = (level: string) => (line: string) => void lines.push([level, line])
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } }
}

test.serial('diagnostics: publish, error and drop messages describe what happened, exactly', async (t) => {
  const publish = listen<PublishMessage>(CHANNELS.publish)
  const errors = listen<ErrorMessage>(CHANNELS.error)
  const drops = listen<DropMessage>(CHANNELS.drop)
  try {
    const mock = new MockConfig()
    const queues = await ScouterQueue.fromPath({ custom: profiles.custom, psi: profiles.psi }, mock, { maxPendingItems: 5, onError: () => {} })
    for (let i = 0; i < 3; i++) queues.get('custom').insert(Metrics.fromObject({ mae: i }))
    await queues.flush()
    mock.failNext(1, { retryable: false })
    queues.get('custom').insert(Metrics.fromObject({ mae: 9 }))
    await queues.flush()
    // Eight rows into a PSI queue bounded at 5 pending items: 3 are refused.
    for (let i = 0; i < 8; i++) queues.get('psi').insert(Features.fromObject({ feature_0: i }))
    const stats = await queues.shutdown()
    t.is(stats.psi.dropped, 3)
    const strip = ({ durationMs, ...rest }: PublishMessage) => {
      t.true(durationMs >= 0 && Number.isFinite(durationMs))
      return rest
    }
    t.deepEqual(publish.messages.map(strip), [
      { alias: 'custom', kind: 'custom', transport: 'mock', records: 1, items: 3 },
      { alias: 'custom', kind: 'custom', transport: 'mock', records: 1, items: 1, error: publish.messages[1]?.error },
      { alias: 'psi', kind: 'psi', transport: 'mock', records: 10, items: 5 },
    ])
    t.regex(publish.messages[1]!.error!, /mock/)
    t.is(errors.messages.length, 1)
    t.is(errors.messages[0]!.alias, 'custom')
    t.true(errors.messages[0]!.error instanceof TransportError)
    t.deepEqual(drops.messages, [{ alias: 'psi', items: 3, reason: 'pending-bound' }])
  } finally {
    publish.stop()
    errors.stop()
    drops.stop()
  }
})

test.serial('diagnostics: transport-state messages follow a failover chain', async (t) => {
  const states = listen<TransportStateEvent>(CHANNELS.transportState)
  try {
    const first = new MockConfig()
    const second = new MockConfig()
    first.setFailing(true, { retryable: true })
    const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, [first, second], { failureThreshold: 1, probeIntervalMs: 60_000, onError: () => {} })
    queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
    await queues.flush()
    await queues.shutdown()
    t.deepEqual(
      states.messages.filter((message) => message.type === 'transport-state').map(({ transport, index, from, to }) => ({ transport, index, from, to })),
      [{ transport: 'mock', index: 0, from: 'closed', to: 'open' }],
    )
    // The link changes go on the same channel, told apart by `type`.
    t.deepEqual(
      (states.messages as unknown as ScouterQueueEvent[]).filter((message) => message.type === 'transport-connection').map((message) => ('connected' in message ? [message.index, message.connected] : [])),
      [
        [0, false],
        [1, true],
      ],
    )
    t.is(second.documents().length, 1)
  } finally {
    states.stop()
  }
})

test.serial('native publish events are on only while something listens', async (t) => {
  const proto = native.BindingScouterQueue.prototype
  const original = proto.setPublishEvents
  const switched: boolean[] = []
  proto.setPublishEvents = function (this: native.BindingScouterQueue, enabled: boolean) {
    switched.push(enabled)
    return original.call(this, enabled)
  }
  try {
    const quiet = await ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig())
    await quiet.shutdown()
    t.deepEqual(switched, [], 'nobody listens: never switched on')
    const publish = listen<PublishMessage>(CHANNELS.publish)
    const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig())
    t.deepEqual(switched, [true])
    publish.stop()
    await new Promise((resolve) => setTimeout(resolve, 1200))
    t.deepEqual(switched, [true, false], 'switched off within a second of the last unsubscribe')
    await queues.shutdown()
  } finally {
    proto.setPublishEvents = original
  }
})

test.serial('logger: start, drops, failures, transport states and shutdown, at their levels', async (t) => {
  const { lines, logger } = recordingLogger()
  const first = new MockConfig()
  const second = new MockConfig()
  first.setFailing(true, { retryable: false })
  const queues = await withEnv({ SCOUTER_LOG_LEVEL: undefined }, () =>
    ScouterQueue.fromPath({ custom: profiles.custom }, [first, second], { logger, failureThreshold: 1, probeIntervalMs: 60_000, maxPendingItems: 2 }),
  )
  for (let i = 0; i < 4; i++) queues.get('custom').insert(Metrics.fromObject({ mae: i }))
  await queues.flush()
  await queues.shutdown()
  const levels = lines.map(([level]) => level)
  t.false(levels.includes('debug'), 'info is the default level')
  t.deepEqual(lines[0], ['info', 'scouter-queue: started 1 queue(s) (custom) publishing to mock > mock'])
  t.true(lines.some(([level, line]) => level === 'warn' && line === 'scouter-queue: [custom] 2 item(s) dropped: maxPendingItems/maxPendingBytes reached (see stats().dropped)'))
  t.true(lines.some(([level, line]) => level === 'warn' && /transport mock \(#0\) closed -> open/.test(line)))
  t.deepEqual(lines.at(-1), ['info', 'scouter-queue: shut down: published 2, failed 0, pending 0 item(s)'])
})

test.serial('logger: debug logs each publish; SCOUTER_LOG_LEVEL and logLevel choose the level; bad ones are refused', async (t) => {
  for (const [env, option, expected] of [
    ['debug', undefined, true],
    ['error', 'debug', true],
    ['warn', undefined, false],
  ] as const) {
    const { lines, logger } = recordingLogger()
    const queues = await withEnv({ SCOUTER_LOG_LEVEL: env }, () =>
      ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig(), { logger, ...(option === undefined ? {} : { logLevel: option }) }),
    )
    queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
    await queues.shutdown()
    const published = lines.filter(([level, line]) => level === 'debug' && /\[custom\] published 1 document \(1 records, 1 items\) to mock in \d+\.\d ms/.test(line))
    t.is(published.length, expected ? 1 : 0, `${env} ${option}`)
    if (env === 'warn') t.deepEqual(lines, [], 'nothing at warn for a quiet run')
  }
  await t.throwsAsync(
    withEnv({ SCOUTER_LOG_LEVEL: 'chatty' }, () => ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig(), { logger: console })),
    { instanceOf: ConfigError, message: /SCOUTER_LOG_LEVEL must be one of debug, info, warn, error, silent/ },
  )
  await t.throwsAsync(ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig(), { logger: { info() {} } as never }), { instanceOf: TypeError, message: /logger\.debug must be a function/ })
  await t.throwsAsync(ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig(), { logger: console, logLevel: 'loud' as never }), { instanceOf: TypeError, message: /logLevel/ })
  await t.throwsAsync(ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig(), { logger: 'console' as never }), { instanceOf: TypeError })
})

test.serial('logger: a logger that throws breaks nothing', async (t) => {
  const boom = () => {
    throw new Error('logger down')
  }
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig(), { logger: { debug: boom, info: boom, warn: boom, error: boom }, logLevel: 'debug' })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.shutdown()
  t.like(stats.custom, { published: 1, failed: 0 })
})
