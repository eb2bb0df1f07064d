/**
 * `scouter-queue/prometheus`: the queues' own figures in a `prom-client` registry (an optional
 * peer dependency), the same ones the OpenTelemetry integration reports: items inserted and
 * processed per outcome, dropped values, queue size, memory and capacity, documents per
 * transport, and a histogram of publish durations. Counters and gauges are read from `stats()`
 * when the registry is scraped; only the histogram is fed as documents settle.
 *
 * @example
 * import { register } from 'prom-client'
 * import { registerPrometheusMetrics } from 'scouter-queue/prometheus'
 * const metrics = registerPrometheusMetrics(queues) // the default registry
 * // GET /metrics -> await register.metrics()
 */
import type * as Prom from 'prom-client'

import { metricsSource } from './internal'
import { DURATION_BUCKETS_SECONDS, itemsOf, OUTCOMES } from './metrics/figures'
import type { ScouterQueue } from './scouter-queue'

/** The part of a `prom-client` `Registry` used: any registry fits. */
export interface RegistryLike {
  /** Adds a metric. */
  registerMetric(metric: never): void
  /** Removes the metric of that name. */
  removeSingleMetric(name: string): void
}

/** Options of {@link registerPrometheusMetrics}. */
export interface PrometheusOptions {
  /** Where the metrics go. @default prom-client's default `register` */
  registry?: RegistryLike
  /** Put before every metric name. @default 'scouter_' */
  prefix?: string
}

/** What {@link registerPrometheusMetrics} returns. */
export interface PrometheusMetrics {
  /** The metric names registered. */
  readonly names: readonly string[]
  /** Removes them from the registry and stops feeding the histogram. */
  unregister(): void
}

/**
 * Registers the figures of `queues` in a prom-client registry.
 * @throws {Error} when `prom-client` is not installed.
 * @throws {TypeError} for bad options.
 */
export function registerPrometheusMetrics(queues: ScouterQueue, options: PrometheusOptions = {}): PrometheusMetrics {
  let prom: typeof Prom
  try {
    prom = require('prom-client') as typeof Prom
  } catch (error) {
    throw new Error("scouter-queue/prometheus needs the 'prom-client' package: npm install prom-client", { cause: error })
  }
  const registry = options.registry ?? prom.register
  const prefix = options.prefix ?? 'scouter_'
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) {
    throw new TypeError(`registerPrometheusMetrics: prefix must be a Prometheus name prefix, got ${String(prefix)}`)
  }
  const source = queues[metricsSource]()
  const read = () => source.figures()
  const none: Prom.Registry[] = []
  const counter = (name: string, help: string, labelNames: string[], set: (metric: Prom.Counter) => void) =>
    new prom.Counter({
      name: prefix + name,
      help,
      labelNames,
      registers: none,
      collect() {
        this.reset()
        set(this)
      },
    })
  const gauge = (name: string, help: string, value: (stats: ReturnType<typeof read>[number]['stats']) => number) =>
    new prom.Gauge({
      name: prefix + name,
      help,
      labelNames: ['alias', 'drift_kind'],
      registers: none,
      collect() {
        for (const { alias, driftKind, stats } of read()) this.set({ alias, drift_kind: driftKind }, value(stats))
      },
    })
  const metrics: Prom.Metric[] = [
    counter('queue_items_inserted_total', 'Items handed to insert()', ['alias', 'drift_kind'], (metric) => {
      for (const { alias, driftKind, stats } of read()) metric.inc({ alias, drift_kind: driftKind }, stats.inserted)
    }),
    counter('queue_items_processed_total', 'Items that ended, by outcome: published, failed, dropped (pending bounds), sampled_out', ['alias', 'drift_kind', 'outcome'], (metric) => {
      for (const { alias, driftKind, stats } of read()) {
        for (const outcome of OUTCOMES) metric.inc({ alias, drift_kind: driftKind, outcome }, itemsOf(stats, outcome))
      }
    }),
    counter('queue_values_dropped_total', 'Values that could not be used (NaN, no bin...)', ['alias', 'drift_kind'], (metric) => {
      for (const { alias, driftKind, stats } of read()) metric.inc({ alias, drift_kind: driftKind }, stats.droppedValues)
    }),
    counter('transport_documents_processed_total', 'Documents per transport of the chain: published there, or failed there', ['alias', 'drift_kind', 'transport', 'outcome'], (metric) => {
      for (const { alias, driftKind, stats } of read()) {
        for (const transport of stats.transports) {
          metric.inc({ alias, drift_kind: driftKind, transport: transport.name, outcome: 'published' }, transport.published)
          metric.inc({ alias, drift_kind: driftKind, transport: transport.name, outcome: 'failed' }, transport.failed)
        }
      }
    }),
    gauge('queue_size_items', 'Items accepted and not yet settled (pending)', (stats) => stats.pending),
    gauge('queue_memory_bytes', 'Bytes of the pending items held in memory', (stats) => stats.pendingBytes),
    gauge('queue_capacity_items', 'The maxPendingItems bound', () => source.capacity),
  ]
  const duration = new prom.Histogram({
    name: prefix + 'publish_duration_seconds',
    help: 'From hand-over to the transport to its answer, per document',
    labelNames: ['alias', 'drift_kind', 'transport', 'outcome'],
    buckets: DURATION_BUCKETS_SECONDS,
    registers: none,
  })
  metrics.push(duration)
  for (const metric of metrics) registry.registerMetric(metric as never)
  const stopListening = source.addPublishListener((message) => {
    const outcome = message.error === undefined ? 'published' : 'failed'
    duration.observe({ alias: message.alias, drift_kind: message.kind, transport: message.transport, outcome }, message.durationMs / 1000)
  })
  const names = metrics.map((metric) => (metric as unknown as { name: string }).name)
  return {
    names,
    unregister() {
      stopListening()
      for (const name of names) registry.removeSingleMetric(name)
    },
  }
}
