/**
 * Delivery accounting, per alias (contract section 1). At every moment
 * `inserted = sampledOut + dropped + pending + published + failed`; after `shutdown()`
 * resolves, `pending` is 0, except, with a spool, for items whose documents wait on disk for the
 * next process on the same `spoolDir`. Nothing disappears without being counted.
 */
import type { BindingQueueStats } from './native'

/** One queue's counters, in items (a row, a set of metrics, an LLM record) unless said otherwise. */
export interface QueueStats {
  /** Items handed to `insert`. */
  inserted: number
  /** LLM records left out by sampling (`1 / sample_rate` are kept). */
  sampledOut: number
  /**
   * Items refused because `maxPendingItems` (or `maxPendingBytes`) were already pending; with a
   * spool, only items of the oldest documents dropped to keep it within `spoolMaxBytes`.
   */
  dropped: number
  /**
   * Items accepted but not yet settled: buffered, aggregating, being published, or (with a spool)
   * in documents waiting on disk.
   */
  pending: number
  /**
   * Bytes of the items counted in `pending` that are held in memory (their size in the native
   * core), the measure that `maxPendingBytes` bounds. Items whose documents are in the spool
   * weigh nothing here. 0 after `shutdown()` resolves.
   */
  pendingBytes: number
  /** Items whose batch was aggregated and whose records, if any, the transport confirmed. */
  published: number
  /** Items whose records could not be delivered after all retries (or before a flush timeout). */
  failed: number
  /** Values that could not be used (NaN, a non-finite value, a category with no code or bin). */
  droppedValues: number
  /** Records confirmed by the transport. */
  records: number
  /** Documents confirmed by the transport. */
  documents: number
  /** Documents that failed after all retries. */
  publishFailures: number
  /**
   * Documents waiting in the disk spool (`spoolDir`) for the transport: this process's, and those
   * an earlier process left, which are replayed first. 0 without a spool.
   */
  spooledDocuments: number
  /**
   * Items counted in `pending` whose documents are in the spool: they survive a crash of this
   * process (the next one on the same `spoolDir` delivers them). 0 without a spool.
   */
  spooledItems: number
  /** What the spooled documents take on disk, in bytes. */
  spooledBytes: number
  /** Documents an earlier process left in the spool that this one delivered. */
  replayedDocuments: number
  /** When a document was last confirmed. */
  lastPublishAt: Date | null
  /** The last background error, if any. */
  lastError: string | null
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
  }
}
