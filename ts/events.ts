/**
 * Events: what happens in the background that is worth knowing but is not an error, delivered to
 * the `onEvent` option of `ScouterQueue.fromPath`. Errors (a lost document, a lost connection) go
 * to `onError`; a failover switch goes here, because nothing was lost: documents simply went to
 * another transport.
 */
import type { BindingTransportEvent } from './native'

/** Where a transport's circuit breaker stands: documents go to it (`closed`), skip it (`open`), or one probe is in flight (`half-open`). */
export type BreakerState = 'closed' | 'open' | 'half-open'

/**
 * A transport of the failover chain changed state: it opened (documents now go to the next
 * transport), a probe started (`open` -> `half-open`), or it recovered (`half-open` -> `closed`,
 * traffic fails back to it).
 */
export interface TransportStateEvent {
  /** What kind of event this is. */
  type: 'transport-state'
  /** The transport's name (`'kafka'`, `'file'`...). */
  transport: string
  /** Its position in the list given to `fromPath`, from 0. */
  index: number
  /** The state of its circuit breaker before. */
  from: BreakerState
  /** The state of its circuit breaker now. */
  to: BreakerState
  /** Why, e.g. `'5 documents in a row failed; the last: kafka transport: ...'`. */
  reason: string
  /** When it changed. */
  at: Date
}

/**
 * A transport became reachable or unreachable, as its publishes show it: `connected: true` for
 * the first document it confirmed, and for the first one after failures (a reconnect);
 * `connected: false` for a failure that may be a lost connection (a retryable one: a time-out, a
 * refused connection, a 5xx; a refusal such as a 400 says nothing about the link). Reported once
 * per change, not per failure. Nothing was lost when this fires: the documents are retried.
 */
export interface TransportConnectionEvent {
  /** What kind of event this is. */
  type: 'transport-connection'
  /** The transport's name (`'kafka'`, `'file'`...). */
  transport: string
  /** Its position in the list given to `fromPath`, from 0. */
  index: number
  /** Whether it is reachable now. */
  connected: boolean
  /** The failure, or `'first document confirmed'`, or `'confirming again after 3 failed attempts over 2.1 s'`. */
  reason: string
  /** When it changed. */
  at: Date
}

/** Everything `onEvent` receives; switch on `type` (more kinds may come). */
export type ScouterQueueEvent = TransportStateEvent | TransportConnectionEvent

/** @internal */
export function eventFromBinding(event: BindingTransportEvent): ScouterQueueEvent {
  return { ...event, at: new Date(event.at) }
}
