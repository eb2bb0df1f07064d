/**
 * Everyone who hears about the queues' background life: `onError`, `onEvent`, the `logger`, and
 * the diagnostics channels. One place routes each event to all of them, and switches the native
 * publish events on only while someone wants them (a subscriber to `scouter-queue:publish`, or a
 * logger at level `'debug'`), so that nobody watching costs nothing.
 * @internal
 */
import type native = require('./native')
import { describe } from './builders/check'
import { publishDrop, publishError, publishMessage, publishObserved, publishTransportState, type PublishMessage } from './diagnostics'
import { asScouterQueueError, type ScouterQueueError } from './errors'
import type { ScouterQueueEvent } from './events'
import type { LevelledLogger } from './logger'

/** How often the publish-event switch is re-evaluated (subscriptions come and go unannounced). */
const RECHECK_MS = 1000
/** Drops of one alias are logged at most once per this many milliseconds, with their total. */
const DROP_LOG_MS = 10_000

/** The callbacks given to `fromPath`. */
export interface ObserverCallbacks {
  onError?: ((error: ScouterQueueError, alias: string) => void) | undefined
  onEvent?: ((event: ScouterQueueEvent) => void) | undefined
  logger?: LevelledLogger | undefined
}

/** @internal */
export class Observers {
  readonly #onError: ObserverCallbacks['onError']
  readonly #onEvent: ObserverCallbacks['onEvent']
  readonly #logger: LevelledLogger | undefined
  /** `alias\0code` of the errors already emitted as process warnings. */
  readonly #warned = new Set<string>()
  /** Per alias: items dropped since the last drop line, and when that line was written. */
  readonly #drops = new Map<string, { pending: number; loggedAt: number }>()
  #native: native.BindingScouterQueue | undefined
  /** Metrics integrations that want every publish message. */
  readonly #publishListeners = new Set<(message: PublishMessage) => void>()
  #publishing = false
  #timer: ReturnType<typeof setInterval> | undefined

  constructor({ onError, onEvent, logger }: ObserverCallbacks) {
    this.#onError = onError
    this.#onEvent = onEvent
    this.#logger = logger
  }

  /** Starts feeding publish events from `queues` while someone wants them. */
  attach(queues: native.BindingScouterQueue, aliases: readonly string[], transports: string): void {
    this.#native = queues
    queues.observePublishes((event) => this.#published(event))
    this.#recheck()
    this.#timer = setInterval(() => this.#recheck(), RECHECK_MS)
    this.#timer.unref()
    this.#logger?.log('info', `started ${aliases.length} queue(s) (${aliases.join(', ')}) publishing to ${transports}`)
  }

  /** Stops the re-evaluation; called once the shutdown settled. `summary` is read only for a logger. */
  detach(summary: () => string): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#logger?.enabled('info')) this.#logger.log('info', `shut down: ${summary()}`)
  }

  /** Adds a listener of every publish message (metrics); returns its remover. */
  addPublishListener(listener: (message: PublishMessage) => void): () => void {
    this.#publishListeners.add(listener)
    this.#recheck()
    return () => {
      this.#publishListeners.delete(listener)
      this.#recheck()
    }
  }

  /** A background failure. */
  error(error: unknown, alias: string): void {
    const typed = asScouterQueueError(error)
    publishError({ alias, error: typed })
    this.#logger?.log(alias === '*' || typed.code === 'SCOUTER_SPOOL' ? 'warn' : 'error', `[${alias}] ${typed.message}`)
    if (this.#onError) {
      callSafely('onError', () => this.#onError!(typed, alias))
      return
    }
    if (this.#logger) return
    const code = typed.code ?? 'ERROR'
    const key = `${alias}\0${code}`
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    process.emitWarning(`scouter-queue '${alias}': ${typed.message} (further ${code} errors of this queue are counted in stats() only; pass onError to see each)`, {
      code,
    })
  }

  /** A transport's circuit breaker changed state, or its link did. */
  transportEvent(event: ScouterQueueEvent): void {
    publishTransportState(event)
    if (this.#logger) {
      const which = `transport ${event.transport} (#${event.index})`
      if (event.type === 'transport-state') {
        this.#logger.log(event.to === 'open' ? 'warn' : 'info', `${which} ${event.from} -> ${event.to}: ${event.reason}`)
      } else if (event.connected) {
        this.#logger.log('info', `${which} connected: ${event.reason}`)
      } else {
        this.#logger.log('warn', `${which} unreachable, retrying: ${event.reason}`)
      }
    }
    if (this.#onEvent) callSafely('onEvent', () => this.#onEvent!(event))
  }

  /** `items` inserted into `alias` were refused by the pending bounds. */
  dropped(alias: string, items: number): void {
    publishDrop({ alias, items, reason: 'pending-bound' })
    if (!this.#logger?.enabled('warn')) return
    const now = Date.now()
    const state = this.#drops.get(alias) ?? { pending: 0, loggedAt: -Infinity }
    state.pending += items
    if (now - state.loggedAt >= DROP_LOG_MS) {
      this.#logger.log('warn', `[${alias}] ${state.pending} item(s) dropped: maxPendingItems/maxPendingBytes reached (see stats().dropped)`)
      state.pending = 0
      state.loggedAt = now
    }
    this.#drops.set(alias, state)
  }

  #published(event: native.BindingPublishEvent): void {
    const message: PublishMessage = {
      alias: event.alias,
      kind: event.kind,
      transport: event.transport,
      records: event.records,
      items: event.items,
      durationMs: event.durationMs,
      ...(event.error === undefined || event.error === null ? {} : { error: event.error }),
    }
    publishMessage(message)
    for (const listener of this.#publishListeners) {
      try {
        listener(message)
      } catch {
        // A metrics integration's failure is not the queue's.
      }
    }
    if (this.#logger?.enabled('debug')) {
      const what = `1 document (${message.records} records, ${message.items} items) to ${message.transport} in ${message.durationMs.toFixed(1)} ms`
      this.#logger.log('debug', `[${message.alias}] ${message.error === undefined ? 'published' : `failed: ${message.error};`} ${what}`)
    }
  }

  #recheck(): void {
    const wanted = publishObserved() || this.#publishListeners.size > 0 || this.#logger?.enabled('debug') === true
    if (wanted === this.#publishing || this.#native === undefined) return
    this.#publishing = wanted
    try {
      this.#native.setPublishEvents(wanted)
    } catch {
      // The queues are gone: nothing to switch.
    }
  }
}

/** Calls a user callback; a throw, or a rejection of the thenable it returns, becomes a warning. */
export function callSafely(callback: 'onError' | 'onEvent', call: () => unknown): void {
  let result: unknown
  try {
    result = call()
  } catch (thrown) {
    warnCallbackFailed(callback, 'threw', thrown)
    return
  }
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return
  try {
    const then: unknown = (result as { then?: unknown }).then
    if (typeof then === 'function') then.call(result, undefined, (reason: unknown) => warnCallbackFailed(callback, 'rejected', reason))
  } catch (thrown) {
    warnCallbackFailed(callback, 'threw', thrown)
  }
}

function warnCallbackFailed(callback: 'onError' | 'onEvent', how: 'threw' | 'rejected', reason: unknown): void {
  let text: string
  try {
    text = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)
  } catch {
    text = describe(reason)
  }
  const code = callback === 'onError' ? 'SCOUTER_ON_ERROR_THREW' : 'SCOUTER_ON_EVENT_THREW'
  process.emitWarning(`scouter-queue: ${callback} ${how}: ${text}`, { code })
}
