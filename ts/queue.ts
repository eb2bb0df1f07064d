/**
 * `Queue`: the handle of one alias, whose `insert` sits on a service's hot path. It checks the
 * item's kind, encodes it into the JS-side buffer and returns: no network, no aggregation, no
 * serialization, and no exception because of the network.
 */
import type { BindingQueue } from './native'
import { isFeatures, type Features } from './builders/feature'
import { isMetrics, type Metrics } from './builders/metric'
import { isLLMRecord, wireFields, type LLMRecord } from './builders/llm-record'
import { evalWireFields, isEvalRecord, type EvalRecord } from './builders/eval-record'
import { QueueClosedError } from './errors'
import { drain, featureValues, onDropped, type Lifecycle } from './internal'
import { RecordBuffer, RowBuffer, type BufferFailure, type ItemBuffer } from './item-buffer'
import { RowLayout } from './row-layout'
import { statsFromBinding, type QueueStats } from './stats'
import { describe } from './builders/check'

/** The kinds of drift profile: `llm` in v0.9 profiles, `genai` in 0.25 ones. */
export type DriftKind = 'spc' | 'psi' | 'custom' | 'llm' | 'genai'

/**
 * The Scouter wire format a queue publishes, chosen by its profile: `'v0.9'` for profiles of
 * Scouter v0.9 to v0.13, `'0.25'` for profiles of Scouter 0.14 and later (they carry a `uid`).
 */
export type WireFormat = 'v0.9' | '0.25'

/** What each kind of queue accepts. */
export type QueueItem = Features | Metrics | LLMRecord | EvalRecord

/**
 * What a queue of kind `K` accepts: `Features` for SPC and PSI, `Metrics` for Custom,
 * `LLMRecord` for LLM, `EvalRecord` for GenAI. For a queue whose kind is not stated
 * (`Queue<DriftKind>`), any of them, checked when inserted.
 */
export type ItemOf<K extends DriftKind> = K extends 'spc' | 'psi'
  ? Features
  : K extends 'custom'
    ? Metrics
    : K extends 'llm'
      ? LLMRecord
      : K extends 'genai'
        ? EvalRecord
        : never

const ACCEPTS = { spc: 'Features', psi: 'Features', custom: 'Metrics', llm: 'LLMRecord', genai: 'EvalRecord' } as const

/**
 * The queue of one alias, from `ScouterQueue.get(alias)`; typed by its kind when the caller
 * states it (`get('psi', 'psi')` is a `Queue<'psi'>`, whose `insert` takes only `Features`).
 */
export class Queue<K extends DriftKind = DriftKind> {
  /** The alias given to `fromPath`. */
  readonly alias: string
  /** `"{space}/{name}/v{version}/{spc|psi|custom|llm|genai}"`. */
  readonly identifier: string
  /** The profile's drift kind. */
  readonly kind: K
  /** The wire format its documents take, chosen by the profile. */
  readonly format: WireFormat
  readonly #native: BindingQueue
  readonly #buffer: ItemBuffer
  readonly #rows: RowBuffer | undefined
  readonly #llm: RecordBuffer<LLMRecord> | undefined
  readonly #eval: RecordBuffer<EvalRecord> | undefined
  readonly #lifecycle: Lifecycle

  /** @internal Created by `ScouterQueue.fromPath`. */
  constructor(alias: string, nativeQueue: BindingQueue, maxPendingItems: number, onFailure: BufferFailure, lifecycle: Lifecycle) {
    this.alias = alias
    this.#lifecycle = lifecycle
    this.identifier = nativeQueue.identifier
    this.kind = nativeQueue.kind as K
    this.format = nativeQueue.format as WireFormat
    this.#native = nativeQueue
    if (this.kind === 'llm') {
      this.#llm = new RecordBuffer(nativeQueue, maxPendingItems, onFailure, wireFields, (fields) => nativeQueue.pushLlm(fields))
      this.#buffer = this.#llm
    } else if (this.kind === 'genai') {
      this.#eval = new RecordBuffer(nativeQueue, maxPendingItems, onFailure, evalWireFields, (fields) => nativeQueue.pushEval(fields))
      this.#buffer = this.#eval
    } else {
      this.#rows = new RowBuffer(nativeQueue, new RowLayout(nativeQueue.slots()), maxPendingItems, onFailure)
      this.#buffer = this.#rows
    }
  }

  /**
   * Queues one item for aggregation and publishing. Synchronous and cheap; it never waits on
   * or throws because of the network. SPC and PSI queues take `Features`, Custom queues
   * `Metrics`, LLM queues `LLMRecord`, GenAI queues `EvalRecord`.
   * @throws {TypeError} when the item is of the wrong kind for this queue, or was not built by
   * this package's builders (an object made with `Object.create(Features.prototype)` passes
   * `instanceof` but is refused: it would fail its whole batch on the way to native code).
   * @throws {QueueClosedError} after `shutdown()`.
   */
  insert(item: ItemOf<K>): void {
    if (this.#lifecycle.shutdown !== undefined) throw new QueueClosedError(this.alias)
    switch (this.kind) {
      case 'spc':
      case 'psi':
        if (isFeatures(item)) {
          const values = item[featureValues]
          return values === undefined ? this.#rows!.addNamed(item.features) : this.#rows!.addObject(values)
        }
        break
      case 'custom':
        if (isMetrics(item)) return this.#rows!.addNamed(item.metrics)
        break
      case 'llm':
        if (isLLMRecord(item)) return this.#llm!.add(item)
        break
      case 'genai':
        if (isEvalRecord(item)) return this.#eval!.add(item)
        break
    }
    const expected = ACCEPTS[this.kind as DriftKind]
    const got = describe(item)
    const forged = got === `an instance of ${expected}` ? ' not built by its constructor (e.g. made with Object.create)' : ''
    throw new TypeError(`${this.kind.toUpperCase()} queue '${this.alias}' takes ${expected}, got ${got}${forged}`)
  }

  /** This queue's delivery accounting, including what was inserted a moment ago. */
  stats(): QueueStats {
    this.#buffer.drain()
    return statsFromBinding(this.#native.stats())
  }

  /** @internal */
  [drain](): void {
    this.#buffer.drain()
  }

  /** @internal */
  [onDropped](listener: (items: number) => void): void {
    this.#buffer.onDropped = listener
  }
}
