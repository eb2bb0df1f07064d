/**
 * `node:diagnostics_channel` channels, as undici and fastify publish theirs: tracing and APM
 * tools subscribe by name, without any option passed to `fromPath`.
 *
 * - `scouter-queue:publish`: a document a queue settled ({@link PublishMessage}); built only
 *   while something subscribes (checked when the queues start and every second after).
 * - `scouter-queue:error`: every background failure ({@link ErrorMessage}), as `onError` gets it.
 * - `scouter-queue:drop`: items refused by `maxPendingItems`/`maxPendingBytes` ({@link DropMessage}).
 * - `scouter-queue:transport-state`: a transport's circuit breaker changed (a `TransportStateEvent`),
 *   or its link did (a `TransportConnectionEvent`); tell them apart by `type` ({@link ScouterQueueEvent}).
 */
import diagnostics = require('node:diagnostics_channel')

import type { ScouterQueueError } from './errors'
import type { ScouterQueueEvent } from './events'

/** The channel names. */
export const CHANNELS = {
  /** One message per settled document: {@link PublishMessage}. */
  publish: 'scouter-queue:publish',
  /** One message per background failure: {@link ErrorMessage}. */
  error: 'scouter-queue:error',
  /** One message per batch of items refused by the pending bounds: {@link DropMessage}. */
  drop: 'scouter-queue:drop',
  /** One message per circuit-breaker change (a `TransportStateEvent`) or link change (a `TransportConnectionEvent`). */
  transportState: 'scouter-queue:transport-state',
} as const

/** What `scouter-queue:publish` carries: one document a queue settled. */
export interface PublishMessage {
  /** The queue's alias. */
  readonly alias: string
  /** The queue's drift kind (`'psi'`...). */
  readonly kind: string
  /** The transport that confirmed it, or the last one that failed it. */
  readonly transport: string
  /** Records in the document. */
  readonly records: number
  /** Items of this process in it (0 for a document replayed from the spool). */
  readonly items: number
  /** From hand-over to the transport's answer, in milliseconds. */
  readonly durationMs: number
  /** Why it failed for good; absent when it was confirmed. */
  readonly error?: string
}

/** What `scouter-queue:error` carries. */
export interface ErrorMessage {
  /** The queue's alias, or `'*'` for the transport itself. */
  readonly alias: string
  /** The error, as `onError` gets it. */
  readonly error: ScouterQueueError
}

/** What `scouter-queue:drop` carries. */
export interface DropMessage {
  /** The queue's alias. */
  readonly alias: string
  /** How many items were refused. */
  readonly items: number
  /** Why: the pending bound (`maxPendingItems` or `maxPendingBytes`) was reached. */
  readonly reason: 'pending-bound'
}

const publishChannel = diagnostics.channel(CHANNELS.publish)
const errorChannel = diagnostics.channel(CHANNELS.error)
const dropChannel = diagnostics.channel(CHANNELS.drop)
const stateChannel = diagnostics.channel(CHANNELS.transportState)

/** @internal Whether anything listens for publish messages. */
export function publishObserved(): boolean {
  return publishChannel.hasSubscribers
}

/** @internal */
export function publishMessage(message: PublishMessage): void {
  if (publishChannel.hasSubscribers) publishChannel.publish(message)
}

/** @internal */
export function publishError(message: ErrorMessage): void {
  if (errorChannel.hasSubscribers) errorChannel.publish(message)
}

/** @internal */
export function publishDrop(message: DropMessage): void {
  if (dropChannel.hasSubscribers) dropChannel.publish(message)
}

/** @internal */
export function publishTransportState(event: ScouterQueueEvent): void {
  if (stateChannel.hasSubscribers) stateChannel.publish(event)
}
