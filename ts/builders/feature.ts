/**
 * `Feature` and `Features`: one row of model inputs for SPC and PSI queues. Plain JavaScript
 * objects: building them never crosses into native code, which is what keeps `insert` cheap.
 */
import { featureValues } from '../internal'
import { checkName, describe, isPlainObject } from './check'

/** How a feature's value is read: as a number, or as a category through the profile's feature map. */
export type FeatureKind = 'int' | 'float' | 'string'

/** What a feature may hold. */
export type FeatureValue = number | bigint | string

const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n

function checkInt(name: string, value: number | bigint): void {
  if (typeof value === 'bigint') {
    if (value < I64_MIN || value > I64_MAX) {
      throw new RangeError(`Feature.int('${name}'): ${value}n is outside the 64-bit integer range`)
    }
    return
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`Feature.int('${name}') needs an integer number or a bigint, got ${describe(value)}`)
  }
  if (value < -(2 ** 63) || value >= 2 ** 63) {
    throw new RangeError(`Feature.int('${name}'): ${value} is outside the 64-bit integer range`)
  }
}

/**
 * One named model input.
 *
 * @example
 * Feature.float('feature_0', 1.5)
 * Feature.int('age', 42)
 * Feature.string('color', 'red')     // mapped to a code through the profile's feature map
 * new Feature('color', 'red')         // kind inferred from the value
 */
export class Feature {
  /** The feature name, as in the drift profile. */
  readonly name: string
  /** The value as given. */
  readonly value: FeatureValue
  /** How the value is read. */
  readonly kind: FeatureKind

  /**
   * A feature whose kind is inferred: a bigint or an integer number is `int`, any other number
   * `float`, a string `string`.
   * @throws {TypeError} when the name is not a non-empty string or the value is not a number, bigint or string.
   * @throws {RangeError} for a bigint outside the 64-bit range.
   */
  constructor(name: string, value: FeatureValue)
  /** @internal */
  constructor(name: string, value: FeatureValue, kind: FeatureKind | undefined)
  constructor(name: string, value: FeatureValue, kind?: FeatureKind) {
    if (kind === undefined) {
      checkName('Feature', name)
      if (typeof value === 'number') {
        kind = Number.isInteger(value) ? 'int' : 'float'
      } else if (typeof value === 'string') {
        kind = 'string'
      } else if (typeof value === 'bigint') {
        checkInt(name, value)
        kind = 'int'
      } else {
        throw new TypeError(`Feature '${name}' needs a number, bigint or string value, got ${describe(value)}`)
      }
    }
    this.name = name
    this.value = value
    this.kind = kind
  }

  /**
   * An integer feature.
   * @throws {TypeError} when the value is not an integer number or a bigint.
   * @throws {RangeError} when it is outside the 64-bit range.
   */
  static int(name: string, value: number | bigint): Feature {
    checkName('Feature', name)
    checkInt(name, value)
    return new Feature(name, value, 'int')
  }

  /**
   * A float feature. NaN and infinities are accepted as data: they are dropped at aggregation
   * where they cannot be used and counted in `stats().droppedValues`.
   * @throws {TypeError} when the value is not a number.
   */
  static float(name: string, value: number): Feature {
    checkName('Feature', name)
    if (typeof value !== 'number') {
      throw new TypeError(`Feature.float('${name}') needs a number, got ${describe(value)}`)
    }
    return new Feature(name, value, 'float')
  }

  /**
   * A string (categorical) feature, mapped to an integer code through the profile's
   * `feature_map` (falling back to the code of `"missing"`).
   * @throws {TypeError} when the value is not a string.
   */
  static string(name: string, value: string): Feature {
    checkName('Feature', name)
    if (typeof value !== 'string') {
      throw new TypeError(`Feature.string('${name}') needs a string, got ${describe(value)}`)
    }
    return new Feature(name, value, 'string')
  }

  /** Same as {@link Feature.string}. */
  static categorical(name: string, value: string): Feature {
    return Feature.string(name, value)
  }
}

/** Checks one value of `Features.fromObject` as `new Feature(name, value)` would. */
function checkValue(name: string, value: unknown): void {
  if (typeof value === 'number' || typeof value === 'string') return
  if (typeof value === 'bigint') return checkInt(name, value)
  throw new TypeError(`Feature '${name}' needs a number, bigint or string value, got ${describe(value)}`)
}

/**
 * A row of features, inserted into an SPC or PSI queue.
 *
 * @example
 * queue.insert(new Features([Feature.float('feature_0', 1.5), Feature.string('color', 'red')]))
 * queue.insert(Features.fromObject({ feature_0: 1.5, color: 'red' }))
 */
export class Features {
  #features: readonly Feature[] | undefined
  /** @internal The object of `fromObject`, encoded directly without `Feature` objects. */
  readonly [featureValues]: Readonly<Record<string, FeatureValue>> | undefined

  /** @throws {TypeError} unless `features` is an array of `Feature`. */
  constructor(features: readonly Feature[])
  /** @internal */
  constructor(features: readonly Feature[] | undefined, values: Readonly<Record<string, FeatureValue>>)
  constructor(features: readonly Feature[] | undefined, values?: Readonly<Record<string, FeatureValue>>) {
    if (values === undefined) {
      if (!Array.isArray(features)) {
        throw new TypeError(`Features needs an array of Feature, got ${describe(features)}`)
      }
      for (let i = 0; i < features.length; i++) {
        if (!(features[i] instanceof Feature)) {
          throw new TypeError(`Features: element ${i} is not a Feature (got ${describe(features[i])})`)
        }
      }
    }
    this.#features = features
    this[featureValues] = values
  }

  /** The features of the row. A name given twice counts once: the last one wins. */
  get features(): readonly Feature[] {
    if (this.#features === undefined) {
      const values = this[featureValues]!
      const list: Feature[] = []
      for (const name in values) list.push(new Feature(name, values[name] as FeatureValue))
      this.#features = list
    }
    return this.#features
  }

  /**
   * A row from a plain object: each own property becomes a feature whose kind is inferred as in
   * `new Feature(name, value)`. The fastest way to build a row: no `Feature` objects are made.
   * The object is read again when the row is inserted, so do not change it in between.
   * @throws {TypeError} unless `values` is a plain object of numbers, bigints and strings.
   */
  static fromObject(values: Readonly<Record<string, FeatureValue>>): Features {
    if (!isPlainObject(values)) {
      throw new TypeError(`Features.fromObject needs a plain object, got ${describe(values)}`)
    }
    for (const name in values) checkValue(name, values[name])
    return new Features(undefined, values)
  }
}
