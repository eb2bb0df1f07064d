import type { QueueStats } from './stats'

/**
 * Symbols for the methods `ScouterQueue` calls on its `Queue`s, kept off the public API.
 * @internal
 */

/** Hands the JS-side buffer to the native queue now. */
export const drain = Symbol('scouter-queue.drain')

/** Sets who hears of items the pending bounds refused. */
export const onDropped = Symbol('scouter-queue.onDropped')

/** What metrics integrations read from a `ScouterQueue` besides its public API. */
export const metricsSource = Symbol('scouter-queue.metricsSource')

/** @internal What `metricsSource` gives. */
export interface MetricsSource {
  /** The `maxPendingItems` bound of every queue. */
  readonly capacity: number
  /** Adds a listener of every settled document; returns its remover. */
  addPublishListener(listener: (message: import('./diagnostics').PublishMessage) => void): () => void
  /** Every queue's reading now. */
  figures(): import('./metrics/figures').QueueFigures[]
}

/**
 * The one "closed" state of a `ScouterQueue` and its queues: the shutdown's promise, set when
 * the shutdown starts. `insert` refuses items once it is set, `flush()` returns it, and a second
 * `shutdown()` returns it again.
 */
export class Lifecycle {
  shutdown: Promise<Record<string, QueueStats>> | undefined = undefined
}

/** The plain object a `Features` was made from by `Features.fromObject`, read by the encoder. */
export const featureValues = Symbol('scouter-queue.featureValues')
