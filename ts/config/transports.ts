/**
 * Transport configs. Each takes an options object; every option falls back to its environment
 * variable and then to the default of the contract (section 5). The resolved values are what
 * `ScouterQueue.transportConfig` returns and what the native core receives.
 */
import native = require('../native')
import type { BindingTransportConfig } from '../native'
import { resolveInteger, resolveString } from './env'
import type { ServerRecords } from '../records'

/** @internal How a config hands itself to the native core. */
export const toBinding = Symbol('scouter-queue.toBinding')

/** @internal */
export interface BindingParts {
  config: BindingTransportConfig
  mock?: native.BindingMockStore
}

/** Options of {@link FileConfig}. */
export interface FileConfigOptions {
  /**
   * The JSON-lines file; created if missing, appended to otherwise.
   * Env: `SCOUTER_FILE_PATH`. @default 'scouter-records.jsonl'
   */
  path?: string
  /** Retries after a failed write. @default 3 */
  maxRetries?: number
}

/**
 * The File transport (the embedded default): appends each published document as one line of
 * JSON. Needs no server; useful locally, in tests, and to ship records later.
 */
export class FileConfig {
  readonly kind = 'file' as const
  /** The resolved file path. */
  readonly path: string
  readonly maxRetries: number

  constructor(options: FileConfigOptions = {}) {
    this.path = resolveString(options.path, ['SCOUTER_FILE_PATH'], 'scouter-records.jsonl')
    this.maxRetries = resolveInteger('maxRetries', options.maxRetries, [], 3, 0, 100)
  }

  /** @internal */
  [toBinding](): BindingParts {
    return { config: { kind: 'file', file: { path: this.path }, maxRetries: this.maxRetries } }
  }
}

/** Options of {@link MockConfig}. */
export interface MockConfigOptions {
  /** Retries after a failed publish (see {@link MockConfig.failNext}). @default 3 */
  maxRetries?: number
}

/**
 * The Mock transport: keeps published documents in memory, readable here. For tests and demos;
 * it can be made slow or failing to exercise flush, retries and accounting.
 *
 * @example
 * const mock = new MockConfig()
 * const queues = await ScouterQueue.fromPath({ psi: 'psi.json' }, mock)
 * // ... insert, then:
 * await queues.flush()
 * mock.documents() // [{ records: [{ Psi: {...} }, ...] }]
 */
export class MockConfig {
  readonly kind = 'mock' as const
  readonly maxRetries: number
  readonly #store: native.BindingMockStore

  constructor(options: MockConfigOptions = {}) {
    this.maxRetries = resolveInteger('maxRetries', options.maxRetries, [], 3, 0, 100)
    this.#store = new native.BindingMockStore(this.maxRetries)
  }

  /** Every document published so far, parsed, in publish order. */
  documents(): ServerRecords[] {
    return this.#store.documents().map((json) => JSON.parse(json) as ServerRecords)
  }

  /** Every document published so far as the exact JSON text that went on the wire. */
  rawDocuments(): string[] {
    return this.#store.documents()
  }

  /** Publish attempts so far, retries included. */
  attempts(): number {
    return this.#store.attempts()
  }

  /** Forgets documents and attempts. */
  clear(): void {
    this.#store.clear()
  }

  /** Makes the next `count` publish attempts fail, retryably (like a broker blip) or not (like a 400). */
  failNext(count: number, { retryable = true }: { retryable?: boolean } = {}): void {
    this.#store.failNext(count, retryable)
  }

  /** Makes every publish attempt take `ms` milliseconds, like a slow broker. */
  setLatencyMs(ms: number): void {
    this.#store.setLatencyMs(ms)
  }

  /** @internal */
  [toBinding](): BindingParts {
    return { config: { kind: 'mock', maxRetries: this.maxRetries }, mock: this.#store }
  }
}

/** Any transport config accepted by `ScouterQueue.fromPath`. */
export type TransportConfig = FileConfig | MockConfig
