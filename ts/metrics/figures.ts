/**
 * The figures both metrics integrations (OpenTelemetry, Prometheus) report, read from one
 * `ScouterQueue`: per alias its counters and gauges, per transport of the chain its documents.
 * Read from `stats()` when a reader collects, so that nothing is counted twice and nothing runs
 * between collections.
 * @internal
 */
import type { QueueStats } from '../stats'

/** The attributes of one queue. */
export interface QueueLabels {
  readonly alias: string
  readonly driftKind: string
}

/** How the items of one queue ended so far. */
export const OUTCOMES = ['published', 'failed', 'dropped', 'sampled_out'] as const

/** One reading of one queue. */
export interface QueueFigures extends QueueLabels {
  readonly stats: QueueStats
}

/** The items of `stats` that ended in `outcome`. */
export function itemsOf(stats: QueueStats, outcome: (typeof OUTCOMES)[number]): number {
  switch (outcome) {
    case 'published':
      return stats.published
    case 'failed':
      return stats.failed
    case 'dropped':
      return stats.dropped
    case 'sampled_out':
      return stats.sampledOut
  }
}

/** Seconds in the publish-duration histograms: 1 ms to 1 min, as a broker's or server's answer takes. */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
