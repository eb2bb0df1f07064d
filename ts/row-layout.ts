/**
 * The columns of a queue's rows, as the native queue reports them: which name goes to which
 * column, and how a value that is not a plain number becomes one. Both row encoders (the one for
 * `Feature` lists and the one for `Features.fromObject`) read it.
 * @internal
 */
import type { BindingSlot } from './native'

/** Column layout of one queue's rows. */
export class RowLayout {
  /** Columns per row. */
  readonly width: number
  /** Presence words (32 columns each) per row. */
  readonly words: number
  /** The column names, in column order. */
  readonly names: readonly string[]
  /** Name -> column. */
  readonly #columnOf: Map<string, number>
  /** Per column, string value -> code (string features only). */
  readonly #codes: (Map<string, number> | undefined)[]
  /** Per column, the code of `"missing"`, or NaN (which aggregation drops and counts). */
  readonly #missing: Float64Array

  constructor(slots: readonly BindingSlot[]) {
    this.width = slots.length
    this.words = Math.max(1, Math.ceil(slots.length / 32))
    this.names = slots.map((slot) => slot.name)
    this.#columnOf = new Map(slots.map((slot, index) => [slot.name, index]))
    // The codes arrive as [value, code] pairs, not as an object: as an object key, a category
    // spelled "__proto__" would be lost, and "constructor" would need own-property care.
    this.#codes = slots.map((slot) => (slot.codes ? new Map(slot.codes) : undefined))
    this.#missing = Float64Array.from(this.#codes, (codes) => codes?.get('missing') ?? NaN)
  }

  /** The column of `name`, or -1 when the profile does not monitor it. */
  columnOf(name: string): number {
    return this.#columnOf.get(name) ?? -1
  }

  /**
   * A value that is not a number, as a number: a string through the column's feature map (or the
   * code of `"missing"`, else NaN), a bigint as the nearest number, anything else NaN (unusable:
   * dropped at aggregation and counted).
   */
  encodeOther(column: number, value: unknown): number {
    if (typeof value === 'string') return this.#codes[column]?.get(value) ?? (this.#missing[column] as number)
    if (typeof value === 'bigint') return Number(value)
    return NaN
  }
}
