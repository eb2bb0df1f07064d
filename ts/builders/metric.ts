/**
 * `Metric` and `Metrics`: custom metric values for Custom queues. Names are lower-cased, as the
 * original does, so they match the profile's lower-case metric names.
 */
import { checkName, describe, isPlainObject } from './check'

/**
 * One custom metric value.
 * @example new Metric('mae', 1.2)
 */
export class Metric {
  /** The metric name, lower-cased. */
  readonly name: string
  /** The value. NaN and infinities are accepted as data and dropped at aggregation. */
  readonly value: number

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
 * A set of metrics, inserted into a Custom queue.
 * @example
 * queue.insert(new Metrics([new Metric('mae', 1.2), new Metric('mape', 3)]))
 * queue.insert(Metrics.fromObject({ mae: 1.2, mape: 3 }))
 */
export class Metrics {
  readonly metrics: readonly Metric[]

  /** @throws {TypeError} unless `metrics` is an array of `Metric`. */
  constructor(metrics: readonly Metric[]) {
    if (!Array.isArray(metrics)) {
      throw new TypeError(`Metrics needs an array of Metric, got ${describe(metrics)}`)
    }
    for (let i = 0; i < metrics.length; i++) {
      if (!(metrics[i] instanceof Metric)) {
        throw new TypeError(`Metrics: element ${i} is not a Metric (got ${describe(metrics[i])})`)
      }
    }
    this.metrics = metrics
  }

  /**
   * A set from a plain object of name -> number.
   * @throws {TypeError} unless `values` is a plain object of numbers.
   */
  static fromObject(values: Readonly<Record<string, number>>): Metrics {
    if (!isPlainObject(values)) {
      throw new TypeError(`Metrics.fromObject needs a plain object, got ${describe(values)}`)
    }
    const list: Metric[] = []
    for (const name in values) {
      list.push(new Metric(name, values[name] as number))
    }
    return new Metrics(list)
  }
}
