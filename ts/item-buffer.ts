/**
 * The JavaScript side of the hot path. `insert` encodes an item into reusable buffers and
 * returns; a whole batch crosses into native code in one call, when the buffer fills, on the next
 * turn of the event loop (`setImmediate`), or before `flush`/`shutdown`/`stats`. Rows travel as a
 * `Float64Array` of values plus a `Uint32Array` presence bitmask, with feature names resolved to
 * columns once per profile, because reading JS objects across N-API costs ~100 ns per property.
 * @internal
 */
import type { BindingQueue } from './native'
import type { Feature } from './builders/feature'
import type { Metric } from './builders/metric'
import { objectEncoder, type ObjectEncoder } from './object-encoder'
import type { RowLayout } from './row-layout'

/** At most this many rows wait on the JS side before crossing. */
const ROW_BATCH = 512
/** At most this many built records (LLM, eval) wait on the JS side before crossing. */
const RECORD_BATCH = 64

/** Called when a batch could not be handed over (it is then counted as failed, not thrown). */
export type BufferFailure = (error: unknown) => void

/**
 * What every buffer shares: it holds at most `capacity` items, hands them over when full, and
 * otherwise schedules one hand-over for the next turn of the event loop.
 */
export abstract class ItemBuffer {
  protected readonly native: BindingQueue
  protected readonly capacity: number
  readonly #onFailure: BufferFailure
  /** Hears of items the native queue refused (its pending bounds were reached). */
  onDropped: ((items: number) => void) | undefined
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

  /**
   * Hands what is buffered to the native queue. Never throws. A batch crosses N-API in one call,
   * so when that call throws, none of its items reached the native queue: they are counted there
   * as inserted and failed (`recordLost`), so that `inserted = ... + failed` still holds and the
   * loss shows in `stats()`, and the error goes to `onError`.
   */
  drain(): void {
    const items = this.count
    if (items === 0) return
    this.count = 0
    let accepted: number
    try {
      accepted = this.handOver(items)
    } catch (error) {
      this.#lost(items, error)
      return
    }
    if (accepted < items && this.onDropped !== undefined) {
      try {
        this.onDropped(items - accepted)
      } catch {
        // An observer's failure is not the queue's.
      }
    }
  }

  #lost(items: number, error: unknown): void {
    try {
      this.native.recordLost(items, `${items} item(s) could not be handed to the native queue: ${messageOf(error)}`)
    } catch {
      // Counting failed too; onError below still hears of the loss.
    }
    this.#onFailure(error)
  }

  /** Passes the first `items` buffered items across N-API; returns how many were accepted. */
  protected abstract handOver(items: number): number
}

/** Rows of numbers: features for SPC/PSI, metrics for Custom. */
export class RowBuffer extends ItemBuffer {
  readonly #layout: RowLayout
  readonly #width: number
  readonly #words: number
  readonly #values: Float64Array
  readonly #present: Uint32Array
  readonly #encodeObject: ObjectEncoder
  /**
   * The column of the name last seen at each position of a `Feature`/`Metric` list. Rows from
   * one call site have the same layout, so a string identity check usually replaces the `Map`
   * lookup.
   */
  readonly #seenNames: (string | undefined)[] = []
  readonly #seenColumns: number[] = []

  constructor(nativeQueue: BindingQueue, layout: RowLayout, maxPendingItems: number, onFailure: BufferFailure, encodeObject: ObjectEncoder = objectEncoder(layout)) {
    super(nativeQueue, Math.max(1, Math.min(ROW_BATCH, maxPendingItems)), onFailure)
    this.#layout = layout
    this.#width = layout.width
    this.#words = layout.words
    this.#values = new Float64Array(this.capacity * this.#width)
    this.#present = new Uint32Array(this.capacity * this.#words)
    this.#encodeObject = encodeObject
  }

  /**
   * Encodes one row of features or metrics; names the profile does not know are ignored. The
   * list was brand-checked when its `Features`/`Metrics` was built; it is the caller's array and
   * may have changed since, so each element is read defensively rather than checked again (a
   * check per element cost about 10 ns a row): an element that is no longer a `Feature`/`Metric`
   * has no known name, or a value that encodes as NaN, which aggregation drops and counts.
   */
  addNamed(items: readonly (Feature | Metric)[]): void {
    const row = this.count
    const base = row * this.#width
    const values = this.#values
    const seenNames = this.#seenNames
    const seenColumns = this.#seenColumns
    // Presence bits of the first 32 columns gather in `mask`; wider rows set later words directly.
    const first = row * this.#words
    if (this.#words > 1) this.#present.fill(0, first + 1, first + this.#words)
    let mask = 0
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as Feature | Metric
      const name = item.name
      let column: number
      if (seenNames[i] === name) {
        column = seenColumns[i] as number
      } else {
        column = this.#layout.columnOf(name)
        seenNames[i] = name
        seenColumns[i] = column
      }
      if (column < 0) continue
      const value = item.value
      values[base + column] = typeof value === 'number' ? value : this.#layout.encodeOther(column, value)
      if (column < 32) mask |= 1 << column
      else this.#present[first + (column >>> 5)]! |= 1 << (column & 31)
    }
    this.#present[first] = mask
    this.committed()
  }

  /**
   * Encodes one row given as a plain object (`Features.fromObject`): its values were checked
   * when it was built; one changed since to another type is unusable (NaN, dropped and counted).
   */
  addObject(object: Readonly<Record<string, unknown>>): void {
    this.#encodeObject(object, this.#values, this.#present, this.count)
    this.committed()
  }

  protected handOver(rows: number): number {
    return this.native.pushRows(this.#values, this.#present, rows)
  }
}

/**
 * Records built whole (`LLMRecord`, `EvalRecord`), already serialized when they were built: a
 * fixed number of strings each, appended by `fieldsOf` and handed over by `push`.
 */
export class RecordBuffer<R> extends ItemBuffer {
  #fields: string[] = []
  readonly #fieldsOf: (record: R, out: string[]) => void
  readonly #push: (fields: string[]) => number

  constructor(
    nativeQueue: BindingQueue,
    maxPendingItems: number,
    onFailure: BufferFailure,
    fieldsOf: (record: R, out: string[]) => void,
    push: (fields: string[]) => number,
  ) {
    super(nativeQueue, Math.max(1, Math.min(RECORD_BATCH, maxPendingItems)), onFailure)
    this.#fieldsOf = fieldsOf
    this.#push = push
  }

  /** Buffers one record (already brand-checked by `Queue.insert`). */
  add(record: R): void {
    this.#fieldsOf(record, this.#fields)
    this.committed()
  }

  protected handOver(): number {
    const fields = this.#fields
    this.#fields = []
    return this.#push(fields)
  }
}

/** The message of something thrown, for `lastError`, without running code that could throw. */
function messageOf(thrown: unknown): string {
  try {
    const message: unknown = (thrown as { message?: unknown } | null)?.message
    return typeof message === 'string' ? message : String(thrown)
  } catch {
    return 'an unknown error'
  }
}
