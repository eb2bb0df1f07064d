/**
 * Delivery accounting, per alias (contract section 1). At every moment
 * `inserted = sampledOut + dropped + pending + published + failed`; after `shutdown()`
 * resolves, `pending` is 0, except, with a spool, for items whose documents wait on disk for the
 * next process on the same `spoolDir`. Nothing disappears without being counted.
 */
import type { BindingQueueStats } from './native'
import type { BreakerState } from './events'

/**
 * One transport of the failover chain (a single transport is a chain of one). `state` and
 * `lastSwitchAt` belong to the transport, so every alias shows the same; the counts are this
 * alias's documents. A document that failed on one transport and was confirmed by the next
 * counts `failed` on the first and `published` on the second; for the queue it is published.
 */
export interface TransportStats {
  /** The transport's name (`'kafka'`, `'file'`...). */
  readonly name: string
  /** Its circuit breaker: documents go to it (`closed`), skip it (`open`), or one probe is in flight (`half-open`). */
  readonly state: BreakerState
  /** Documents this transport confirmed. */
  readonly published: number
  /** Documents this transport failed after its retries (then tried on the next transport, if one admitted them). */
  readonly failed: number
  /**
   * Of `failed`, documents the transport may have stored anyway: Kafka reported a message that
   * timed out after it was sent, or the document was handed to the next transport after
   * `failureTimeoutMs` without a confirmation (this one may still deliver it). If a later
   * transport confirmed them, they may be in both places: the at-least-once window of failover.
   */
  readonly inDoubt: number
  /** When its state last changed; `null` if it never did. */
  readonly lastSwitchAt: Date | null
}

/** One queue's counters, in items (a row, a set of metrics, an LLM record) unless said otherwise. */
export interface QueueStats {
  /** Items handed to `insert`. */
  readonly inserted: number
  /** LLM records left out by sampling (`1 / sample_rate` are kept). */
  readonly sampledOut: number
  /**
   * Items refused because `maxPendingItems` (or `maxPendingBytes`) were already pending; with a
   * spool, only items of the oldest documents dropped to keep it within `spoolMaxBytes`.
   */
  readonly dropped: number
  /**
   * Items accepted but not yet settled: buffered, aggregating, being published, or (with a spool)
   * in documents waiting on disk.
   */
  readonly pending: number
  /**
   * Bytes of the items counted in `pending` that are held in memory (their size in the native
   * core), the measure that `maxPendingBytes` bounds. Items whose documents are in the spool
   * weigh nothing here. 0 after `shutdown()` resolves.
   */
  readonly pendingBytes: number
  /** Items whose batch was aggregated and whose records, if any, the transport confirmed. */
  readonly published: number
  /** Items whose records could not be delivered after all retries (or before a flush timeout). */
  readonly failed: number
  /** Values that could not be used (NaN, a non-finite value, a category with no code or bin). */
  readonly droppedValues: number
  /** Records confirmed by the transport. */
  readonly records: number
  /** Documents confirmed by the transport. */
  readonly documents: number
  /** Documents that failed after all retries. */
  readonly publishFailures: number
  /**
   * Documents waiting in the disk spool (`spoolDir`) for the transport: this process's, and those
   * an earlier process left, which are replayed first. 0 without a spool.
   */
  readonly spooledDocuments: number
  /**
   * Items counted in `pending` whose documents are in the spool: they survive a crash of this
   * process (the next one on the same `spoolDir` delivers them). 0 without a spool.
   */
  readonly spooledItems: number
  /** What the spooled documents take on disk, in bytes. */
  readonly spooledBytes: number
  /** Documents an earlier process left in the spool that this one delivered. */
  readonly replayedDocuments: number
  /** When a document was last confirmed. */
  readonly lastPublishAt: Date | null
  /** The last background error, if any. */
  readonly lastError: string | null
  /** Per transport, in the order given to `fromPath`. */
  readonly transports: readonly TransportStats[]
}

/** The native counters; `pendingBytes` is newer than some builds' types. */

/** @internal */
export function statsFromBinding(stats: BindingQueueStats): QueueStats {
  return {
    inserted: stats.inserted,
    sampledOut: stats.sampledOut,
    dropped: stats.dropped,
    pending: stats.pending,
    pendingBytes: stats.pendingBytes,
    published: stats.published,
    failed: stats.failed,
    droppedValues: stats.droppedValues,
    records: stats.records,
    documents: stats.documents,
    publishFailures: stats.publishFailures,
    spooledDocuments: stats.spooledDocuments,
    spooledItems: stats.spooledItems,
    spooledBytes: stats.spooledBytes,
    replayedDocuments: stats.replayedDocuments,
    lastPublishAt: stats.lastPublishAt === undefined ? null : new Date(stats.lastPublishAt),
    lastError: stats.lastError ?? null,
    transports: stats.transports.map((transport) => ({
      name: transport.name,
      state: transport.state,
      published: transport.published,
      failed: transport.failed,
      inDoubt: transport.inDoubt,
      lastSwitchAt: transport.lastSwitchAt === undefined ? null : new Date(transport.lastSwitchAt),
    })),
  }
}
