/**
 * OpenTelemetry metrics of the queues themselves, named and shaped after the SDK's own
 * self-metrics (`otel.sdk.processor.*`: items processed with `error.type` on failures, queue
 * size, queue capacity). `@opentelemetry/api` is an optional peer dependency: without it, or when
 * the meter provider is the API's no-op one (none registered), nothing is registered and nothing
 * runs. Counters and gauges are observable (read from `stats()` when the reader collects); only
 * the publish-duration histogram is fed as documents settle, which switches the core's publish
 * events on.
 * @internal
 */
import type * as Otel from '@opentelemetry/api'

import type { MetricsSource } from '../internal'
import { DURATION_BUCKETS_SECONDS, itemsOf, OUTCOMES, type QueueFigures } from './figures'

/** The part of an OpenTelemetry `MeterProvider` the queues use: any provider fits. */
export interface MeterProviderLike {
  /** Returns the meter of an instrumentation scope. */
  getMeter(name: string, version?: string): unknown
}

/** The scope of every instrument. */
const SCOPE = 'scouter-queue'

/**
 * Where `@opentelemetry/api` (major version 1) keeps its globals. A registered meter provider
 * sits under `metrics`; without one there is nothing to report to, and the API is not even
 * loaded (loading it is the only cost a queue could have had).
 */
const API_GLOBALS = Symbol.for('opentelemetry.js.api.1')

/** The globally registered provider, through `@opentelemetry/api`; `undefined` when none is. */
function globalProvider(): MeterProviderLike | undefined {
  const globals = (globalThis as Record<symbol, { metrics?: unknown } | undefined>)[API_GLOBALS]
  if (globals?.metrics === undefined) return undefined
  try {
    return (require('@opentelemetry/api') as typeof Otel).metrics.getMeterProvider()
  } catch {
    return undefined
  }
}

/** Whether `meter` is the API's no-op meter (no provider registered): then nothing is worth doing. */
function isNoop(meter: object): boolean {
  return meter.constructor?.name === 'NoopMeter'
}

/**
 * Registers the instruments for one `ScouterQueue`; returns what removes them (at shutdown), or
 * `undefined` when there is no meter provider.
 */
export function registerOpenTelemetry(
  provider: MeterProviderLike | undefined,
  version: string,
  read: () => QueueFigures[],
  source: MetricsSource,
): (() => void) | undefined {
  const resolved = provider ?? globalProvider()
  if (resolved === undefined) return undefined
  const meter = resolved.getMeter(SCOPE, version) as Otel.Meter
  if (meter === null || typeof meter !== 'object' || isNoop(meter)) return undefined

  const inserted = meter.createObservableCounter('scouter.queue.item.inserted', { description: 'Items handed to insert()', unit: '{item}' })
  const processed = meter.createObservableCounter('scouter.queue.item.processed', {
    description: 'Items that ended: published, failed (error.type=failed), dropped by the pending bounds (error.type=dropped) or sampled out',
    unit: '{item}',
  })
  const droppedValues = meter.createObservableCounter('scouter.queue.value.dropped', { description: 'Values that could not be used (NaN, no bin...)', unit: '{value}' })
  const size = meter.createObservableUpDownCounter('scouter.queue.size', { description: 'Items accepted and not yet settled (pending)', unit: '{item}' })
  const memory = meter.createObservableUpDownCounter('scouter.queue.memory.usage', { description: 'Bytes of the pending items held in memory', unit: 'By' })
  const capacity = meter.createObservableUpDownCounter('scouter.queue.capacity', { description: 'The maxPendingItems bound', unit: '{item}' })
  const documents = meter.createObservableCounter('scouter.transport.document.processed', {
    description: 'Documents per transport of the chain: confirmed, or failed there (error.type=failed)',
    unit: '{document}',
  })
  const duration = meter.createHistogram('scouter.publish.duration', {
    description: 'From hand-over to the transport to its answer, per document',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_SECONDS },
  })

  const observe = (result: Otel.BatchObservableResult): void => {
    for (const { alias, driftKind, stats } of read()) {
      const labels = { 'scouter.alias': alias, 'scouter.drift_kind': driftKind }
      result.observe(inserted, stats.inserted, labels)
      for (const outcome of OUTCOMES) {
        const error = outcome === 'failed' || outcome === 'dropped' ? { 'error.type': outcome } : {}
        result.observe(processed, itemsOf(stats, outcome), { ...labels, 'scouter.outcome': outcome, ...error })
      }
      result.observe(droppedValues, stats.droppedValues, labels)
      result.observe(size, stats.pending, labels)
      result.observe(memory, stats.pendingBytes, labels)
      result.observe(capacity, source.capacity, labels)
      for (const transport of stats.transports) {
        const at = { ...labels, 'scouter.transport': transport.name }
        result.observe(documents, transport.published, at)
        result.observe(documents, transport.failed, { ...at, 'error.type': 'failed' })
      }
    }
  }
  const observables = [inserted, processed, droppedValues, size, memory, capacity, documents]
  meter.addBatchObservableCallback(observe, observables)
  const stopListening = source.addPublishListener((message) => {
    duration.record(message.durationMs / 1000, {
      'scouter.alias': message.alias,
      'scouter.drift_kind': message.kind,
      'scouter.transport': message.transport,
      ...(message.error === undefined ? {} : { 'error.type': 'failed' }),
    })
  })
  return () => {
    stopListening()
    meter.removeBatchObservableCallback(observe, observables)
  }
}
