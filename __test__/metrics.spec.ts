/**
 * The queues' own metrics: OpenTelemetry (a real SDK MeterProvider with an in-memory reader) and
 * Prometheus (a prom-client registry, scraped as text). Exact values after a known run.
 */
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { Registry } from 'prom-client'
import test from 'ava'

import { Features, Metrics, MockConfig, ScouterQueue } from '../ts/index'
import { registerPrometheusMetrics } from '../ts/prometheus'
import { profiles } from './helpers/fixtures'

/** A reader that collects on demand. */
class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** `name{attr=value,...} value` for every data point of a collection (histograms: count and sum). */
function points(metrics: ResourceMetrics): Map<string, number> {
  const out = new Map<string, number>()
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints) {
        const attrs = Object.entries(point.attributes)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(',')
        const value = point.value as number | { count: number; sum?: number }
        if (typeof value === 'number') out.set(`${metric.descriptor.name}{${attrs}}`, value)
        else out.set(`${metric.descriptor.name}{${attrs}}.count`, value.count)
      }
    }
  }
  return out
}

/** Three Custom rows published, one dropped by the bound, one PSI row with a NaN. */
async function knownRun(options: Parameters<typeof ScouterQueue.fromPath>[2]) {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom, psi: profiles.psi }, mock, { maxPendingItems: 3, ...options })
  for (let i = 0; i < 4; i++) queues.get('custom').insert(Metrics.fromObject({ mae: i }))
  queues.get('psi').insert(Features.fromObject({ feature_0: NaN, color: 'red' }))
  await queues.flush()
  return queues
}

test.serial('OpenTelemetry: counters, gauges and the publish histogram of a known run', async (t) => {
  const reader = new OnDemandReader()
  const provider = new MeterProvider({ readers: [reader] })
  const queues = await knownRun({ meterProvider: provider })
  const { resourceMetrics } = await reader.collect()
  const got = points(resourceMetrics)
  const custom = 'scouter.alias=custom,scouter.drift_kind=custom'
  const psi = 'scouter.alias=psi,scouter.drift_kind=psi'
  t.is(got.get(`scouter.queue.item.inserted{${custom}}`), 4)
  t.is(got.get(`scouter.queue.item.processed{${custom},scouter.outcome=published}`), 3)
  t.is(got.get(`scouter.queue.item.processed{error.type=dropped,${custom},scouter.outcome=dropped}`), 1)
  t.is(got.get(`scouter.queue.item.processed{error.type=failed,${custom},scouter.outcome=failed}`), 0)
  t.is(got.get(`scouter.queue.item.processed{${psi},scouter.outcome=published}`), 1)
  t.is(got.get(`scouter.queue.value.dropped{${psi}}`), 1, 'the NaN')
  t.is(got.get(`scouter.queue.size{${custom}}`), 0)
  t.is(got.get(`scouter.queue.capacity{${custom}}`), 3)
  t.is(got.get(`scouter.transport.document.processed{${custom},scouter.transport=mock}`), 1)
  t.is(got.get(`scouter.publish.duration{${custom},scouter.transport=mock}.count`), 1)
  t.is(got.get(`scouter.publish.duration{${psi},scouter.transport=mock}.count`), 1)
  await queues.shutdown()
  await provider.shutdown()
})

test.serial('OpenTelemetry: the batch callback is removed when the shutdown settles', async (t) => {
  const calls: string[] = []
  const instrument = () => ({})
  const meter = {
    createObservableCounter: instrument,
    createObservableUpDownCounter: instrument,
    createHistogram: () => ({ record: () => calls.push('record') }),
    addBatchObservableCallback: () => calls.push('add'),
    removeBatchObservableCallback: () => calls.push('remove'),
  }
  const queues = await knownRun({ meterProvider: { getMeter: () => meter } })
  t.deepEqual(calls, ['add', 'record', 'record'], 'one histogram record per settled document')
  await queues.shutdown()
  t.deepEqual(calls, ['add', 'record', 'record', 'remove'])
})

test.serial('OpenTelemetry: without a registered provider nothing is registered', async (t) => {
  let meters = 0
  const provider = {
    getMeter() {
      meters++
      return { constructor: { name: 'NoopMeter' } }
    },
  }
  const queues = await knownRun({ meterProvider: provider })
  t.is(meters, 1, 'asked once, found the no-op meter, did nothing more')
  await queues.shutdown()
  const plain = await knownRun({})
  await plain.shutdown()
  t.pass('the global no-op provider of @opentelemetry/api is left alone')
  await t.throwsAsync(ScouterQueue.fromPath({ custom: profiles.custom }, new MockConfig(), { meterProvider: {} as never }), { instanceOf: TypeError, message: /meterProvider/ })
})

test.serial('Prometheus: the same figures, scraped as text', async (t) => {
  const registry = new Registry()
  const queues = await knownRun({})
  const metrics = registerPrometheusMetrics(queues, { registry })
  queues.get('custom').insert(Metrics.fromObject({ mae: 10 }))
  await queues.flush()
  const text = await registry.metrics()
  const value = (line: string) => {
    const found = text.split('\n').find((l) => l.startsWith(line + ' '))
    return found === undefined ? undefined : Number(found.slice(line.length + 1))
  }
  t.is(value('scouter_queue_items_inserted_total{alias="custom",drift_kind="custom"}'), 5)
  t.is(value('scouter_queue_items_processed_total{alias="custom",drift_kind="custom",outcome="published"}'), 4)
  t.is(value('scouter_queue_items_processed_total{alias="custom",drift_kind="custom",outcome="dropped"}'), 1)
  t.is(value('scouter_queue_values_dropped_total{alias="psi",drift_kind="psi"}'), 1)
  t.is(value('scouter_queue_capacity_items{alias="custom",drift_kind="custom"}'), 3)
  t.is(value('scouter_queue_size_items{alias="psi",drift_kind="psi"}'), 0)
  t.is(value('scouter_transport_documents_processed_total{alias="custom",drift_kind="custom",transport="mock",outcome="published"}'), 2)
  t.is(value('scouter_publish_duration_seconds_count{alias="custom",drift_kind="custom",transport="mock",outcome="published"}'), 1, 'only documents settled after registering')
  t.regex(text, /# HELP scouter_queue_items_processed_total Items that ended/)
  metrics.unregister()
  t.is(await registry.metrics(), '\n')
  await queues.shutdown()
})

test.serial('OpenTelemetry: a provider registered globally is found without being passed', async (t) => {
  const { metrics } = await import('@opentelemetry/api')
  const reader = new OnDemandReader()
  const provider = new MeterProvider({ readers: [reader] })
  t.true(metrics.setGlobalMeterProvider(provider))
  try {
    const queues = await knownRun({})
    const got = points((await reader.collect()).resourceMetrics)
    t.is(got.get('scouter.queue.item.inserted{scouter.alias=custom,scouter.drift_kind=custom}'), 4)
    await queues.shutdown()
  } finally {
    metrics.disable()
    await provider.shutdown()
  }
})
