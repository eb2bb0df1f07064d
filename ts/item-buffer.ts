/**
 * The JavaScript side of the hot path. `insert` encodes an item into reusable buffers and
 * returns; a whole batch crosses into native code in one call, when the buffer fills, on the next
 * turn of the event loop (`setImmediate`), or before `flush`/`shutdown`/`stats`. Rows travel as a
 * `Float64Array` of values plus a `Uint32Array` presence bitmask, with feature names resolved to
 * columns once per profile, because reading JS objects across N-API costs ~100 ns per property.
 * @internal
 */
import type { BindingQueue, BindingSlot } from './native'
import type { Feature } from './builders/feature'
import type { Metric } from './builders/metric'
import type { LLMRecord } from './builders/llm-record'

/** At most this many rows wait on the JS side before crossing. */
const ROW_BATCH = 512
/** At most this many LLM records wait on the JS side before crossing. */
const LLM_BATCH = 64

/** Called when a batch could not be handed over (it is then lost to the bound, not thrown). */
export type BufferFailure = (error: unknown) => void

/**
 * What every buffer shares: it holds at most `capacity` items, hands them over when full, and
 * otherwise schedules one hand-over for the next turn of the event loop.
 */
export abstract class ItemBuffer {
  protected readonly native: BindingQueue
  protected readonly capacity: number
  readonly #onFailure: BufferFailure
  /** Items waiting to cross. */
  protected count = 0
  #scheduled = false
  readonly #drainSoon = (): void => {
    this.#scheduled = false
    this.drain()
  }

  protected constructor(nativeQueue: BindingQueue, capacity: number, onFailure: BufferFailure) {
    this.native = nativeQueue
    this.capacity = capacity
    this.#onFailure = onFailure
  }

  /** Counts one more buffered item: hands the batch over when full, else schedules it. */
  protected committed(): void {
    if (++this.count === this.capacity) {
      this.drain()
    } else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#drainSoon)
    }
  }

  /** Hands what is buffered to the native queue. Never throws. */
  drain(): void {
    const items = this.count
    if (items === 0) return
    this.count = 0
    try {
      this.handOver(items)
    } catch (error) {
      this.#onFailure(error)
    }
  }

  /** Passes the first `items` buffered items across N-API. */
  protected abstract handOver(items: number): void
}

/** Rows of numbers: features for SPC/PSI, metrics for Custom. */
export class RowBuffer extends ItemBuffer {
  readonly #width: number
  readonly #words: number
  readonly #values: Float64Array
  readonly #present: Uint32Array
  /** Feature or metric name -> column. */
  readonly #slotOf: Map<string, number>
  /** Per column, string value -> code (string features only). */
  readonly #codes: (Map<string, number> | undefined)[]
  /** Per column, the code of `"missing"`, or NaN (which aggregation drops and counts). */
  readonly #missing: Float64Array
  /**
   * The column of the name last seen at each position of a row. Rows from one call site have the
   * same layout, so a string identity check usually replaces the `Map` lookup.
   */
  readonly #seenNames: (string | undefined)[] = []
  readonly #seenSlots: number[] = []

  constructor(nativeQueue: BindingQueue, slots: readonly BindingSlot[], maxPendingItems: number, onFailure: BufferFailure) {
    super(nativeQueue, Math.max(1, Math.min(ROW_BATCH, maxPendingItems)), onFailure)
    this.#width = slots.length
    this.#words = Math.max(1, Math.ceil(slots.length / 32))
    this.#values = new Float64Array(this.capacity * this.#width)
    this.#present = new Uint32Array(this.capacity * this.#words)
    this.#slotOf = new Map(slots.map((slot, index) => [slot.name, index]))
    this.#codes = slots.map((slot) => (slot.codes ? new Map(Object.entries(slot.codes)) : undefined))
    this.#missing = Float64Array.from(slots, (slot) => slot.codes?.missing ?? NaN)
  }

  /** Encodes one row of features. */
  addFeatures(features: readonly Feature[]): void {
    const base = this.count * this.#width
    const values = this.#values
    if (this.#words === 1) {
      let mask = 0
      for (let i = 0; i < features.length; i++) {
        const feature = features[i] as Feature
        const slot = this.#slotAt(i, feature.name)
        if (slot < 0) continue
        values[base + slot] = this.#encode(slot, feature)
        mask |= 1 << slot
      }
      this.#present[this.count] = mask
    } else {
      const first = this.count * this.#words
      this.#present.fill(0, first, first + this.#words)
      for (let i = 0; i < features.length; i++) {
        const feature = features[i] as Feature
        const slot = this.#slotAt(i, feature.name)
        if (slot < 0) continue
        values[base + slot] = this.#encode(slot, feature)
        this.#present[first + (slot >>> 5)]! |= 1 << (slot & 31)
      }
    }
    this.committed()
  }

  /**
   * Encodes one row given as a plain object (`Features.fromObject`): its values were checked
   * when it was built; one changed since to another type is unusable (NaN, dropped and counted).
   */
  addObject(values: Readonly<Record<string, number | bigint | string>>): void {
    const row = this.count
    const base = row * this.#width
    const out = this.#values
    const seenNames = this.#seenNames
    const seenSlots = this.#seenSlots
    let mask = 0
    let position = 0
    for (const name in values) {
      // Inlined #slotAt: this loop is the hot path of the fastest way to insert.
      let slot: number
      if (seenNames[position] === name) {
        slot = seenSlots[position] as number
      } else {
        slot = this.#slotOf.get(name) ?? -1
        seenNames[position] = name
        seenSlots[position] = slot
      }
      position++
      if (slot < 0) continue
      const value = values[name]
      out[base + slot] =
        typeof value === 'number'
          ? value
          : typeof value === 'string'
            ? (this.#codes[slot]?.get(value) ?? (this.#missing[slot] as number))
            : typeof value === 'bigint'
              ? Number(value)
              : NaN
      if (slot < 32) mask |= 1 << slot
    }
    if (this.#words === 1) {
      this.#present[row] = mask
    } else {
      // Wide rows: set the bits word by word (rare: more than 32 monitored features).
      const first = row * this.#words
      this.#present.fill(0, first, first + this.#words)
      this.#present[first] = mask
      position = 0
      for (const name in values) {
        const slot = seenSlots[position++] as number
        if (slot >= 32) this.#present[first + (slot >>> 5)]! |= 1 << (slot & 31)
      }
    }
    this.committed()
  }

  /** The column of `name`, found at position `position` of a row; -1 when not monitored. */
  #slotAt(position: number, name: string): number {
    if (this.#seenNames[position] === name) return this.#seenSlots[position] as number
    const slot = this.#slotOf.get(name) ?? -1
    this.#seenNames[position] = name
    this.#seenSlots[position] = slot
    return slot
  }

  /** Encodes one set of metrics; names the profile does not know are ignored. */
  addMetrics(metrics: readonly Metric[]): void {
    const base = this.count * this.#width
    const first = this.count * this.#words
    this.#present.fill(0, first, first + this.#words)
    for (let i = 0; i < metrics.length; i++) {
      const metric = metrics[i] as Metric
      const slot = this.#slotAt(i, metric.name)
      if (slot < 0) continue
      this.#values[base + slot] = metric.value
      this.#present[first + (slot >>> 5)]! |= 1 << (slot & 31)
    }
    this.committed()
  }

  #encode(slot: number, feature: Feature): number {
    const value = feature.value
    if (feature.kind === 'string') {
      const code = this.#codes[slot]?.get(value as string)
      return code ?? (this.#missing[slot] as number)
    }
    return typeof value === 'bigint' ? Number(value) : (value as number)
  }

  protected handOver(rows: number): void {
    this.native.pushRows(this.#values, this.#present, rows)
  }
}

/** LLM records, already serialized when they were built: four strings each. */
export class LlmBuffer extends ItemBuffer {
  #fields: string[] = []

  constructor(nativeQueue: BindingQueue, maxPendingItems: number, onFailure: BufferFailure) {
    super(nativeQueue, Math.max(1, Math.min(LLM_BATCH, maxPendingItems)), onFailure)
  }

  add(record: LLMRecord): void {
    this.#fields.push(record.uid, record.createdAt, record.contextJson, record.promptJson)
    this.committed()
  }

  protected handOver(): void {
    const fields = this.#fields
    this.#fields = []
    this.native.pushLlm(fields)
  }
}
