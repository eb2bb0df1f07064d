/**
 * `Metric` and `Metrics`: custom metric values for Custom queues. Names are lower-cased, as the
 * original does, so they match the profile's lower-case metric names.
 */
import { builderError, checkName, describe, isPlainObject, rememberNames, repeatedName } from './check'

/** The names of the last `new Metrics` list found free of repeats (see `rememberNames`). */
const lastNames: string[] = []

/** The brand check of `Metric`, set in its static block. */
let metricBrand: (value: object) => boolean

/** The brand check of `Metrics`, set in its static block. */
let metricsBrand: (value: object) => boolean

/**
 * One custom metric value.
 * @example new Metric('mae', 1.2)
 */
export class Metric {
  /** The metric name, lower-cased. */
  readonly name: string
  /** The value. NaN and infinities are accepted as data and dropped at aggregation. */
  readonly value: number
  /** Brand: only objects built by this constructor have it (`Object.create` cannot forge it). */
  readonly #metric = true

  static {
    metricBrand = (value) => #metric in value
  }

  /** @throws {TypeError} when the name is not a non-empty string or the value is not a number. */
  constructor(name: string, value: number) {
    checkName('Metric', name)
    if (typeof value !== 'number') {
      throw new TypeError(`Metric '${name}' needs a number value, got ${describe(value)}`)
    }
    this.name = name.toLowerCase()
    this.value = value
  }
}

/**
 * A set of metrics, inserted into a Custom queue. Each name may appear once, after
 * lower-casing: `MAE` and `mae` in one set is a mistake, not two readings.
 * @example
 * queue.insert(new Metrics([new Metric('mae', 1.2), new Metric('mape', 3)]))
 * queue.insert(Metrics.fromObject({ mae: 1.2, mape: 3 }))
 */
export class Metrics {
  /** The metrics of the set. */
  readonly metrics: readonly Metric[]
  /** Brand: only objects built by this constructor have it. */
  readonly #metrics = true

  static {
    metricsBrand = (value) => #metrics in value
  }

  /**
   * @throws {TypeError} unless `metrics` is an array of `Metric` (built by this package) in which
   * no name appears twice; the error names the repeated name.
   */
  constructor(metrics: readonly Metric[]) {
    if (!Array.isArray(metrics)) {
      throw new TypeError(`Metrics needs an array of Metric, got ${describe(metrics)}`)
    }
    try {
      checkMetricsList(metrics)
    } catch (error) {
      throw builderError('Metrics', error)
    }
    this.metrics = metrics
  }

  /**
   * A set from a plain object of name -> number.
   * @throws {TypeError} unless `values` is a plain object of numbers whose names differ after
   * lower-casing (`{ MAE: 1, mae: 2 }` names `mae` twice).
   */
  static fromObject(values: Readonly<Record<string, number>>): Metrics {
    if (!isPlainObject(values)) {
      throw new TypeError(`Metrics.fromObject needs a plain object, got ${describe(values)}`)
    }
    let list: Metric[]
    try {
      list = metricsOf(values)
      const repeated = repeatedName(list)
      if (repeated !== undefined) {
        const given = Object.keys(values).filter((name) => name.toLowerCase() === repeated)
        throw new TypeError(
          `Metrics.fromObject: the metric ${JSON.stringify(repeated)} is given more than once (names are lower-cased: ${given.map((name) => JSON.stringify(name)).join(', ')})`,
        )
      }
    } catch (error) {
      throw builderError('Metrics.fromObject', error)
    }
    return new Metrics(list)
  }
}

/**
 * Whether `value` was built by the `Metric` constructor. A brand check, not `instanceof`:
 * `Object.create(Metric.prototype)` passes `instanceof` but has none of the fields.
 * @internal
 */
export function isMetric(value: unknown): value is Metric {
  return typeof value === 'object' && value !== null && metricBrand(value)
}

/** Whether `value` was built by `new Metrics` or `Metrics.fromObject` (see {@link isMetric}). @internal */
export function isMetrics(value: unknown): value is Metrics {
  return typeof value === 'object' && value !== null && metricsBrand(value)
}

/**
 * Throws a `TypeError` unless every element of `list` is a `Metric` built by this package and no
 * name appears twice. A function of its own, called inside the constructor's `try`: loops inside
 * a `try` block run measurably slower in V8.
 */
function checkMetricsList(list: readonly Metric[]): void {
  const count = list.length
  let known = count === lastNames.length
  for (let i = 0; i < count; i++) {
    const metric = list[i]
    if (!isMetric(metric)) {
      throw new TypeError(`Metrics: element ${i} is not a Metric (got ${describe(metric)})`)
    }
    if (known && metric.name !== lastNames[i]) known = false
  }
  if (!known) {
    const repeated = repeatedName(list)
    if (repeated !== undefined) {
      throw new TypeError(`Metrics: the metric ${JSON.stringify(repeated)} is given more than once (names are lower-cased)`)
    }
    rememberNames(lastNames, list)
  }
}

/** The `Metric` of each property of `values` (outside `fromObject`'s `try`, as in `checkMetricsList`). */
function metricsOf(values: Readonly<Record<string, number>>): Metric[] {
  const list: Metric[] = []
  for (const name in values) list.push(new Metric(name, values[name] as number))
  return list
}
