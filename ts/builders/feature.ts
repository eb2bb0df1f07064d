/**
 * `Feature` and `Features`: one row of model inputs for SPC and PSI queues. Plain JavaScript
 * objects: building them never crosses into native code, which is what keeps `insert` cheap.
 */
import { featureValues } from '../internal'
import { builderError, checkName, describe, isPlainObject, rememberNames, repeatedName } from './check'

/** How a feature's value is read: as a number, or as a category through the profile's feature map. */
export type FeatureKind = 'int' | 'float' | 'string'

/** What a feature may hold. */
export type FeatureValue = number | bigint | string

/**
 * What the factories pass as the third constructor argument once they have checked the value:
 * module-private tokens, so that no caller can skip the checks by passing a kind of its own.
 */
const INT: unique symbol = Symbol('int')
const FLOAT: unique symbol = Symbol('float')
const STRING: unique symbol = Symbol('string')
type KindToken = typeof INT | typeof FLOAT | typeof STRING

/** The brand check of `Feature`, set in its static block. */
let featureBrand: (value: object) => boolean

/** The brand check of `Features`, set in its static block. */
let featuresBrand: (value: object) => boolean

/** The names of the last `new Features` list found free of repeats (see `rememberNames`). */
const lastNames: string[] = []

/** Tells `new Features` that `fromObject` checked the values (no caller can pass it). */
const FROM_OBJECT: unique symbol = Symbol('fromObject')

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
  /** Brand: only objects built by this constructor have it (`Object.create` cannot forge it). */
  readonly #feature = true

  static {
    featureBrand = (value) => #feature in value
  }

  /**
   * A feature whose kind is inferred: a bigint or an integer number within the 64-bit range is
   * `int`, any other number `float`, a string `string`.
   * @throws {TypeError} when the name is not a non-empty string or the value is not a number, bigint or string.
   * @throws {RangeError} for a bigint outside the 64-bit range.
   */
  constructor(name: string, value: FeatureValue)
  /** @internal */
  constructor(name: string, value: FeatureValue, kind: KindToken)
  constructor(name: string, value: FeatureValue, kind?: KindToken) {
    if (kind === INT) {
      this.kind = 'int'
    } else if (kind === FLOAT) {
      this.kind = 'float'
    } else if (kind === STRING) {
      this.kind = 'string'
    } else {
      checkName('Feature', name)
      if (typeof value === 'number') {
        // An integer beyond the 64-bit range (1e300) is no int64: it is read as the float it is.
        this.kind = Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63 ? 'int' : 'float'
      } else if (typeof value === 'string') {
        this.kind = 'string'
      } else if (typeof value === 'bigint') {
        checkInt(name, value)
        this.kind = 'int'
      } else {
        throw new TypeError(`Feature '${name}' needs a number, bigint or string value, got ${describe(value)}`)
      }
    }
    this.name = name
    this.value = value
  }

  /**
   * An integer feature.
   * @throws {TypeError} when the value is not an integer number or a bigint.
   * @throws {RangeError} when it is outside the 64-bit range.
   */
  static int(name: string, value: number | bigint): Feature {
    checkName('Feature', name)
    checkInt(name, value)
    return new Feature(name, value, INT)
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
    return new Feature(name, value, FLOAT)
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
    return new Feature(name, value, STRING)
  }

  /** Same as {@link Feature.string}. */
  static categorical(name: string, value: string): Feature {
    return Feature.string(name, value)
  }
}

/**
 * Checks each value of `Features.fromObject`. A function of its own, not inlined in a `try`
 * block: V8 keeps the fast `for...in` path here (about 20 ns less for ten features).
 */
function checkValues(values: Readonly<Record<string, unknown>>): void {
  for (const name in values) checkValue(name, values[name])
}

/** Checks one value of `Features.fromObject` as `new Feature(name, value)` would. */
function checkValue(name: string, value: unknown): void {
  if (name.length === 0) throw new TypeError('Features.fromObject: a feature name must be a non-empty string, got the empty string')
  if (typeof value === 'number' || typeof value === 'string') return
  if (typeof value === 'bigint') return checkInt(name, value)
  throw new TypeError(`Feature '${name}' needs a number, bigint or string value, got ${describe(value)}`)
}

/**
 * A row of features, inserted into an SPC or PSI queue. Each feature name may appear once.
 *
 * @example
 * queue.insert(new Features([Feature.float('feature_0', 1.5), Feature.string('color', 'red')]))
 * queue.insert(Features.fromObject({ feature_0: 1.5, color: 'red' }))
 */
export class Features {
  /** The list given to the constructor; built lazily from the object of `fromObject`. Also the brand. */
  #features: readonly Feature[] | undefined
  /** @internal The object of `fromObject`, encoded directly without `Feature` objects. */
  readonly [featureValues]: Readonly<Record<string, FeatureValue>> | undefined

  static {
    featuresBrand = (value) => #features in value
  }

  /**
   * @throws {TypeError} unless `features` is an array of `Feature` (built by this package) in
   * which no name appears twice; the error names the repeated name.
   */
  constructor(features: readonly Feature[])
  /** @internal */
  constructor(features: readonly Feature[] | undefined, values: Readonly<Record<string, FeatureValue>>, token: typeof FROM_OBJECT)
  constructor(features: readonly Feature[] | undefined, values?: Readonly<Record<string, FeatureValue>>, token?: typeof FROM_OBJECT) {
    if (token === FROM_OBJECT) {
      this.#features = undefined
      this[featureValues] = values
      return
    }
    if (!Array.isArray(features)) {
      throw new TypeError(`Features needs an array of Feature, got ${describe(features)}`)
    }
    try {
      checkFeaturesList(features)
    } catch (error) {
      throw builderError('Features', error)
    }
    this.#features = features
    this[featureValues] = undefined
  }

  /** The features of the row. */
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
   * @throws {RangeError} for a bigint outside the 64-bit range.
   */
  static fromObject(values: Readonly<Record<string, FeatureValue>>): Features {
    if (!isPlainObject(values)) {
      throw new TypeError(`Features.fromObject needs a plain object, got ${describe(values)}`)
    }
    try {
      checkValues(values)
    } catch (error) {
      throw builderError('Features.fromObject', error)
    }
    return new Features(undefined, values, FROM_OBJECT)
  }
}

/**
 * Whether `value` was built by the `Feature` constructor or its factories. A brand check, not
 * `instanceof`: `Object.create(Feature.prototype)` passes `instanceof` but has none of the fields.
 * @internal
 */
export function isFeature(value: unknown): value is Feature {
  return typeof value === 'object' && value !== null && featureBrand(value)
}

/** Whether `value` was built by `new Features` or `Features.fromObject` (see {@link isFeature}). @internal */
export function isFeatures(value: unknown): value is Features {
  return typeof value === 'object' && value !== null && featuresBrand(value)
}

/**
 * Throws a `TypeError` unless every element of `list` is a `Feature` built by this package and no
 * name appears twice. A function of its own, called inside the constructor's `try`: loops inside
 * a `try` block run measurably slower in V8.
 */
function checkFeaturesList(list: readonly Feature[]): void {
  const count = list.length
  let known = count === lastNames.length
  for (let i = 0; i < count; i++) {
    const feature = list[i]
    if (!isFeature(feature)) {
      throw new TypeError(`Features: element ${i} is not a Feature (got ${describe(feature)})`)
    }
    if (known && feature.name !== lastNames[i]) known = false
  }
  if (!known) {
    const repeated = repeatedName(list)
    if (repeated !== undefined) {
      throw new TypeError(`Features: the feature ${JSON.stringify(repeated)} is given more than once`)
    }
    rememberNames(lastNames, list)
  }
}
