/**
 * `ScouterQueue`: the entry point. One `fromPath` loads drift profiles, connects one transport
 * (or a failover chain of them) and starts one background queue per alias in the native core.
 * `flush` and `shutdown` resolve once everything inserted before them has been confirmed by a
 * transport (or counted as failed), and resolve with the accounting.
 */
import { fileURLToPath } from 'node:url'

import native = require('./native')
import { describe, isPlainObject } from './builders/check'
import { checkTimeout, resolveNumber, resolveText } from './config/options'
import { FileConfig, toBinding, type TransportConfig } from './config/transports'
import { errorFromBinding, UnknownAliasError, type ScouterQueueError } from './errors'
import { eventFromBinding, type ScouterQueueEvent } from './events'
import { drain, Lifecycle, metricsSource, onDropped, type MetricsSource } from './internal'
import type { QueueFigures } from './metrics/figures'
import { registerOpenTelemetry, type MeterProviderLike } from './metrics/opentelemetry'
import { resolveLogger, type Logger, type LogLevel } from './logger'
import { Observers } from './observers'
import { watchPendingAtExit } from './pending-at-exit'
import { Queue, type DriftKind } from './queue'
import { resolveShutdownHooksOptions, ShutdownHooks, type ShutdownHooksOptions } from './shutdown-hooks'
import type { QueueStats } from './stats'

// The type of `Symbol.asyncDispose`, for programs compiled without `@types/node` or TypeScript's
// `esnext.disposable` lib: the same declaration as both (they merge), so that this package's
// declarations stand on their own.
declare global {
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol
  }
}

/**
 * The key of `[Symbol.asyncDispose]()`. Node has had `Symbol.asyncDispose` since 20.4 (18.18);
 * before that, the key transpilers fall back to for `await using` (esbuild, tsx, Babel, SWC) is
 * `Symbol.for('Symbol.asyncDispose')`.
 */
const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ?? (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose)

/** Options of {@link ScouterQueue.fromPath}. */
export interface ScouterQueueOptions {
  /**
   * PSI and Custom queues publish what is buffered once this long has passed since their last
   * publish. @default 30000
   */
  flushIntervalMs?: number
  /**
   * The bound, per queue, on items accepted but not yet published. Past it, `insert` drops
   * items (counted in `stats().dropped`) instead of growing memory. @default 100000
   */
  maxPendingItems?: number
  /**
   * Called on the main thread for every background failure (a publish that failed after all
   * retries, a lost connection). Errors are never thrown into `insert`. Failures of the
   * transport itself, which belong to every queue, come with alias `'*'`. Without it, the first
   * failure of each kind per queue is emitted as a process warning. It may be `async`: if it
   * throws or its promise rejects, a process warning (`SCOUTER_ON_ERROR_THREW`) says so and
   * nothing else happens.
   */
  onError?: (error: ScouterQueueError, alias: string) => void
  /**
   * Where background events are logged, one line each: start and shutdown (`info`), a transport
   * that opened its circuit or a lost connection (`warn`), drops (`warn`, at most one line per
   * alias every 10 s), publishes that failed for good (`error`), each published document
   * (`debug`). Any object with `debug`, `info`, `warn` and `error` methods: pino, winston,
   * `console`. With a logger and no `onError`, errors go to the logger instead of process
   * warnings; `onError` still gets each one when given.
   */
  logger?: Logger
  /** The least severe level logged. Env: `SCOUTER_LOG_LEVEL`. @default 'info' */
  logLevel?: LogLevel
  /**
   * Where the queues' own OpenTelemetry metrics go (items inserted / processed per outcome,
   * dropped values, queue size, memory and capacity, documents per transport, publish duration),
   * attributes `scouter.alias`, `scouter.drift_kind`, `scouter.transport`. Default: the global
   * provider of `@opentelemetry/api` (an optional peer dependency) when one is registered;
   * without one, nothing is registered and nothing runs. Reported until `shutdown()` settles.
   */
  meterProvider?: MeterProviderLike
  /**
   * Reject `fromPath` with a `ConfigError` when the transport cannot connect (a broker's
   * metadata, a login) within this time. Without it, the queues start at once and keep
   * reconnecting in the background, reporting failures to `onError`.
   */
  connectTimeoutMs?: number
  /**
   * The deadline of a `flush()` or `shutdown()` called without `timeoutMs` (OpenTelemetry's
   * export timeout has the same default): what is still unconfirmed then counts as `failed`, so
   * that a shutdown hook never waits for ever on a dead broker. At most 2147483647.
   * @default 30000
   */
  flushTimeoutMs?: number
  /**
   * The bound, per queue, on the bytes of items accepted but not yet settled (`stats().pendingBytes`),
   * beside `maxPendingItems`: large LLM records reach a memory limit long before an item count
   * does. Past it, `insert` drops items (counted in `stats().dropped`). @default 67108864 (64 MiB)
   */
  maxPendingBytes?: number
  /**
   * Turns on the write-ahead disk spool: every document is written here before it is handed to
   * the transport and removed once the transport confirms it, so a crash, a `kill -9` or a broker
   * that stays down loses nothing that became a document. What the transport cannot take waits
   * here instead of being dropped at `maxPendingItems`. The next `fromPath` on the same directory
   * delivers what was left, first (at least once). One live process per directory: a second gets
   * a `ConfigError`. Without it, there is no spool.
   */
  spoolDir?: string | FileUrl
  /**
   * The bound on the spool's files, all queues together. Past it, the oldest documents are
   * dropped (their items counted in `stats().dropped`). At least 65536. @default 1073741824 (1 GiB)
   */
  spoolMaxBytes?: number
  /**
   * When spooled documents reach the disk itself: `'always'` before each hand-over (survives a
   * power loss), `'interval'` at most 100 ms later, `'never'` (left to the operating system).
   * Every mode survives a crash of the process itself. @default 'interval'
   */
  spoolSync?: 'interval' | 'always' | 'never'
  /**
   * Failover (a list of transports): a transport's circuit breaker opens after this many
   * documents in a row failed on it after their retries; documents then go to the next
   * transport. A whole number from 1. @default 5
   */
  failureThreshold?: number
  /**
   * Failover: a failure lasting this long also opens a transport's breaker: a document
   * unconfirmed for this long (a hung broker), or failures going on, with no confirmation in
   * between, for this long. A document unconfirmed for this long is then handed to the next
   * transport that admits it, although the first may still deliver it (counted in
   * `stats().transports[i].inDoubt`: the at-least-once window). Set it above the slowest
   * confirmation a healthy transport takes. Above 0, at most 2147483647. @default 10000
   */
  failureTimeoutMs?: number
  /**
   * Failover: how long a transport's breaker stays open before the next document is sent to it
   * as a probe (one at a time); a confirmed probe closes it and traffic fails back. Above 0, at
   * most 2147483647. @default 5000
   */
  probeIntervalMs?: number
  /**
   * Called on the main thread for background events that are not errors: a transport of the
   * chain changing state (`{ type: 'transport-state', from: 'closed', to: 'open', ... }`), so
   * that a switch to the next transport and the fail-back can be logged or alerted on; and a
   * transport becoming reachable or unreachable (`{ type: 'transport-connection', connected,
   * reason, ... }`: its first confirmed document, a retryable failure, the first confirmation
   * after failures).
   * Nothing was lost when this fires; failures that lose documents go to `onError`. Like
   * `onError`, it may be `async`: a throw or a rejection becomes one process warning
   * (`SCOUTER_ON_EVENT_THREW`). Without it, events are only visible in `stats()`.
   */
  onEvent?: (event: ScouterQueueEvent) => void
}

/** The numeric options of `fromPath`; their rules are rows of the option table. */
const NUMBER_OPTIONS = [
  'flushIntervalMs',
  'maxPendingItems',
  'connectTimeoutMs',
  'flushTimeoutMs',
  'maxPendingBytes',
  'failureThreshold',
  'failureTimeoutMs',
  'probeIntervalMs',
  'spoolMaxBytes',
] as const

/**
 * A `file:` URL: a `URL` object (checked with `instanceof URL` when used). Declared by what it
 * has rather than as `URL`, so that the declarations compile without `@types/node` or the DOM
 * library; any `URL` fits.
 */
export interface FileUrl {
  /** The whole URL, `file:///...`. */
  readonly href: string
  /** `'file:'` for a usable one. */
  readonly protocol: string
}

/** Per alias, what `stats()`, `flush()` and `shutdown()` report: a reading, not a handle. */
export type ScouterQueueStats<A extends string = string> = { readonly [alias in A]: QueueStats }

/** The package version, reported as the OpenTelemetry instrumentation scope version. */
const VERSION: string = (require('../package.json') as { version: string }).version

/**
 * The queues of a set of drift profiles, publishing to one transport, or to the first that works
 * of a list (a failover chain).
 *
 * A process that exits with items not yet published (no `shutdown()`, no shutdown hooks) emits
 * one process warning, code `SCOUTER_PENDING_AT_EXIT`, naming how many are lost.
 *
 * @example
 * const queues = await ScouterQueue.fromPath({ psi: './psi_profile.json' }, new FileConfig())
 * queues.get('psi').insert(Features.fromObject({ feature_0: 1.5, color: 'red' }))
 * await queues.shutdown()
 *
 * @example
 * // `await using` shuts down when the block is left, however it is left.
 * await using queues = await ScouterQueue.fromPath({ psi: './psi_profile.json' })
 *
 * // Kafka, and the local file while Kafka is down.
 * const queues = await ScouterQueue.fromPath({ llm: './llm_profile.json' }, [new KafkaConfig(), new FileConfig()], {
 *   onEvent: (event) => console.log(`${event.transport}: ${event.from} -> ${event.to} (${event.reason})`),
 * })
 */
export class ScouterQueue<A extends string = string> {
  readonly #native: native.BindingScouterQueue
  readonly #queues: ReadonlyMap<string, Queue>
  readonly #transports: readonly TransportConfig[]
  readonly #lifecycle = new Lifecycle()
  /** The deadline of a shutdown without `timeoutMs` (the `flushTimeoutMs` option). */
  readonly #flushTimeoutMs: number
  /** The installed shutdown hooks; removed when the shutdown settles. */
  readonly #hooks = new Set<ShutdownHooks>()
  /** Set when the shutdown has settled: nothing is left for hooks to do. */
  #closed = false
  /** Stops counting this instance in the warning of a process that exits with items pending. */
  readonly #stopWatchingExit: () => void
  /** `onError`, `onEvent`, the logger and the diagnostics channels. */
  readonly #observers: Observers
  readonly #maxPending: number
  /** Removes the OpenTelemetry instruments, if any were registered. */
  #stopMetrics: (() => void) | undefined

  private constructor(
    nativeQueues: native.BindingScouterQueue,
    transports: readonly TransportConfig[],
    maxPending: number,
    flushTimeoutMs: number,
    observers: Observers,
  ) {
    this.#native = nativeQueues
    this.#transports = transports
    this.#flushTimeoutMs = flushTimeoutMs
    this.#observers = observers
    this.#maxPending = maxPending
    const queues = new Map<string, Queue>()
    for (const alias of nativeQueues.aliases()) {
      const nativeQueue = nativeQueues.queue(alias)!
      const queue = new Queue(alias, nativeQueue, maxPending, (error) => observers.error(error, alias), this.#lifecycle)
      queue[onDropped]((items) => observers.dropped(alias, items))
      queues.set(alias, queue)
    }
    this.#queues = queues
    this.#stopWatchingExit = watchPendingAtExit(() => Array.from(queues.values(), (queue) => queue.stats()))
  }

  /**
   * Loads each drift profile (alias -> file written by scouter-ml's `save_to_json`), connects
   * the transport and starts one queue per alias.
   * @param paths alias -> profile file path (or `file:` URL).
   * @param transport where records go: one config, or a non-empty list of distinct configs in
   * order of preference (a failover chain: each document goes to the first transport whose
   * circuit breaker is closed, and on to the next if it fails there; see `failureThreshold`,
   * `failureTimeoutMs`, `probeIntervalMs` and `onEvent`). @default new FileConfig()
   * @throws {TypeError} for arguments of the wrong type, an empty list, or a list holding
   * something else than configs or the same config twice.
   * @throws {ProfileError} (rejects) when a profile is missing, unreadable, not JSON, or lacks a
   * field the queue needs; the error names the file and the field.
   * @throws {ConfigError} (rejects) for an unusable option or a transport that cannot be set up.
   */
  static async fromPath<const P extends Readonly<Record<string, string | FileUrl>>>(
    paths: P,
    transport: TransportConfig | readonly TransportConfig[] = new FileConfig(),
    options: ScouterQueueOptions = {},
  ): Promise<ScouterQueue<Extract<keyof P, string>>> {
    return ScouterQueue.#open<Extract<keyof P, string>>(profileSources(paths), transport, options)
  }

  /**
   * Like {@link fromPath}, for profiles you already hold as objects: fetched from a model
   * registry, read from a database, or built in memory. Each is the JSON object `scouter-ml`
   * writes (either format); it is checked exactly as a file would be.
   * @param profiles alias -> profile object.
   * @throws {TypeError} when a profile is not a plain object or cannot be serialized to JSON.
   * @throws {ProfileError} (rejects) when a profile lacks a field the queue needs: `field` names
   * it, `file` is undefined and the message names the alias.
   * @example
   * const profile = await registry.getJson('psi_model/0.1.0/profile.json')
   * const queues = await ScouterQueue.fromProfiles({ psi: profile }, new KafkaConfig())
   */
  static async fromProfiles<const P extends Readonly<Record<string, object>>>(
    profiles: P,
    transport: TransportConfig | readonly TransportConfig[] = new FileConfig(),
    options: ScouterQueueOptions = {},
  ): Promise<ScouterQueue<Extract<keyof P, string>>> {
    return ScouterQueue.#open<Extract<keyof P, string>>(profileObjects(profiles), transport, options)
  }

  static async #open<A extends string>(
    sources: native.BindingProfileSource[],
    transport: TransportConfig | readonly TransportConfig[],
    options: ScouterQueueOptions,
  ): Promise<ScouterQueue<A>> {
    const transports = transportList(transport)
    if (!isPlainObject(options as unknown)) {
      throw new TypeError(`ScouterQueue.fromPath: options must be a plain object, got ${describe(options)}`)
    }
    const { onError, onEvent } = options
    const logger = resolveLogger(options.logger, options.logLevel)
    const meterProvider: unknown = options.meterProvider
    if (meterProvider !== undefined && (meterProvider === null || typeof meterProvider !== 'object' || typeof (meterProvider as MeterProviderLike).getMeter !== 'function')) {
      throw new TypeError(`ScouterQueue.fromPath: meterProvider must be an OpenTelemetry MeterProvider (with getMeter), got ${describe(meterProvider)}`)
    }
    if (onError !== undefined && typeof onError !== 'function') {
      throw new TypeError(`ScouterQueue.fromPath: onError must be a function, got ${describe(onError)}`)
    }
    if (onEvent !== undefined && typeof onEvent !== 'function') {
      throw new TypeError(`ScouterQueue.fromPath: onEvent must be a function, got ${describe(onEvent)}`)
    }
    // Each option is read once, so that what is checked is what is passed on.
    const nativeOptions: native.BindingQueueOptions = {}
    for (const key of NUMBER_OPTIONS) {
      const value: unknown = options[key]
      if (value === undefined) continue
      if (typeof value !== 'number') {
        throw new TypeError(`ScouterQueue.fromPath: ${key} must be a number, got ${describe(value)}`)
      }
      nativeOptions[key] = resolveNumber('queue', key, value)
    }
    const spoolDir: unknown = options.spoolDir
    if (spoolDir !== undefined) {
      if (spoolDir instanceof URL) {
        nativeOptions.spoolDir = fileURLToPath(spoolDir)
      } else if (typeof spoolDir === 'string' && spoolDir.length > 0) {
        nativeOptions.spoolDir = spoolDir
      } else {
        throw new TypeError(`ScouterQueue.fromPath: spoolDir must be a non-empty string or file: URL, got ${describe(spoolDir)}`)
      }
    }
    const spoolSync: unknown = options.spoolSync
    if (spoolSync !== undefined) {
      if (typeof spoolSync !== 'string') {
        throw new TypeError(`ScouterQueue.fromPath: spoolSync must be 'interval', 'always' or 'never', got ${describe(spoolSync)}`)
      }
      nativeOptions.spoolSync = resolveText('queue', 'spoolSync', spoolSync)
    }

    const observers = new Observers({ onError, onEvent, logger })
    const parts = transports.map((config) => config[toBinding]())
    const opened = await native.openQueues(
      sources,
      parts.map((part) => part.config),
      parts.map((part) => part.mock ?? null),
      nativeOptions,
      (event) => observers.error(errorFromBinding(event), event.alias),
      (event) => observers.transportEvent(eventFromBinding(event)),
    )
    if (!(opened instanceof native.BindingScouterQueue)) {
      throw errorFromBinding(opened)
    }
    for (const warning of opened.warnings()) {
      process.emitWarning(warning, { code: 'SCOUTER_PROFILE_WARNING' })
    }
    observers.attach(opened, opened.aliases(), transports.map((config) => config.kind).join(' > '))
    const queues = new ScouterQueue<A>(
      opened,
      transports,
      nativeOptions.maxPendingItems ?? resolveNumber('queue', 'maxPendingItems', undefined),
      nativeOptions.flushTimeoutMs ?? resolveNumber('queue', 'flushTimeoutMs', undefined),
      observers,
    )
    queues.#stopMetrics = registerOpenTelemetry(meterProvider as MeterProviderLike | undefined, VERSION, () => queues.#figures(), queues[metricsSource]())
    return queues
  }

  /**
   * The queue of `alias`. Given the `kind` you expect, the queue is typed by it (its `insert`
   * takes only that kind's items) and the kind is checked now, so a profile of another kind
   * fails here rather than at the first insert.
   * @throws {UnknownAliasError} listing the known aliases.
   * @throws {TypeError} when `kind` is given and the profile is of another kind.
   * @example
   * const psi = queues.get('psi', 'psi') // Queue<'psi'>: insert(Features)
   */
  get(alias: A): Queue
  get<K extends DriftKind>(alias: A, kind: K): Queue<K>
  get(alias: A, kind?: DriftKind): Queue {
    const queue = this.#queues.get(alias)
    if (queue === undefined) throw new UnknownAliasError(String(alias), this.aliases)
    if (kind !== undefined && queue.kind !== kind) {
      throw new TypeError(`queue '${alias}' is a ${queue.kind} queue (from its profile), not ${describe(kind)}`)
    }
    return queue
  }

  /** The aliases, sorted. */
  get aliases(): A[] {
    return [...this.#queues.keys()] as A[]
  }

  /**
   * The transport config in use, with its options resolved; with a failover list, its first
   * (preferred) config: see {@link transportConfigs} for the whole list.
   */
  get transportConfig(): TransportConfig {
    return this.#transports[0] as TransportConfig
  }

  /** Every transport config in use, in order of preference (one for a single transport). */
  get transportConfigs(): readonly TransportConfig[] {
    return this.#transports
  }

  /** Every queue's delivery accounting, by alias. */
  stats(): ScouterQueueStats<A> {
    const stats: Record<string, QueueStats> = {}
    for (const [alias, queue] of this.#queues) stats[alias] = queue.stats()
    return stats as ScouterQueueStats<A>
  }

  /**
   * Publishes what every queue has buffered and resolves once every record made from items
   * inserted before the call has been confirmed by the transport, or has failed after all
   * retries. What is still unconfirmed after `timeoutMs` (else the `flushTimeoutMs` option)
   * counts as failed. Once `shutdown()` has been called, returns the shutdown's own promise, as
   * OpenTelemetry's processors do: the shutdown flushes everything anyway, and a flush of its own
   * could neither run on a closed transport nor wait for what the shutdown is still publishing.
   * @param timeoutMs a number of milliseconds from 0 to 2147483647.
   * @returns the accounting after the flush.
   * @throws {TypeError} (rejects) when `timeoutMs` is not a number.
   * @throws {RangeError} (rejects) when it is not finite or outside [0, 2147483647].
   */
  flush(timeoutMs?: number): Promise<ScouterQueueStats<A>> {
    try {
      checkTimeout(timeoutMs)
    } catch (error) {
      return Promise.reject(error)
    }
    return (this.#lifecycle.shutdown as Promise<ScouterQueueStats<A>> | undefined) ?? this.#flush(timeoutMs)
  }

  async #flush(timeoutMs: number | undefined): Promise<ScouterQueueStats<A>> {
    for (const queue of this.#queues.values()) queue[drain]()
    const error = await this.#native.flush(timeoutMs)
    if (error) throw errorFromBinding(error)
    return this.stats()
  }

  /**
   * Flushes, then stops every background task and closes the transport. Idempotent: later calls
   * return the same promise. `insert` afterwards throws `QueueClosedError`. A call whose
   * `timeoutMs` is refused throws before anything starts, so a later call can still shut down.
   * @param timeoutMs a number of milliseconds from 0 to 2147483647; without it, the
   * `flushTimeoutMs` option bounds the flush.
   * @returns the final accounting, with `pending` 0.
   * @throws {TypeError} when `timeoutMs` is not a number.
   * @throws {RangeError} when it is not finite or outside [0, 2147483647].
   */
  shutdown(timeoutMs?: number): Promise<ScouterQueueStats<A>> {
    checkTimeout(timeoutMs)
    if (this.#lifecycle.shutdown === undefined) {
      // What was inserted before the call crosses now; from here on `insert` refuses.
      for (const queue of this.#queues.values()) queue[drain]()
      const closing = this.#close(timeoutMs)
      this.#lifecycle.shutdown = closing
      // Attached before anyone else can attach to it: the hooks are gone by the time a hook's own
      // continuation looks for other listeners of its signal.
      closing.then(
        () => {
          this.#settled()
          this.#stopWatchingExit()
        },
        // A failed shutdown may have left items pending: the exit warning still counts them.
        () => this.#settled(),
      )
    }
    return this.#lifecycle.shutdown as Promise<ScouterQueueStats<A>>
  }

  #settled(): void {
    this.#closed = true
    for (const hooks of this.#hooks) hooks.remove()
    this.#observers.detach(() => {
      const totals = { published: 0, failed: 0, pending: 0 }
      for (const queue of this.#queues.values()) {
        const stats = queue.stats()
        totals.published += stats.published
        totals.failed += stats.failed
        totals.pending += stats.pending
      }
      return `published ${totals.published}, failed ${totals.failed}, pending ${totals.pending} item(s)`
    })
    this.#stopMetrics?.()
    this.#stopMetrics = undefined
  }

  /** Every queue's reading, for the metrics integrations. */
  #figures(): QueueFigures[] {
    return Array.from(this.#queues, ([alias, queue]) => ({ alias, driftKind: queue.kind, stats: queue.stats() }))
  }

  /** @internal What the metrics integrations read besides the public API. */
  [metricsSource](): MetricsSource {
    return {
      capacity: this.#maxPending,
      addPublishListener: (listener) => this.#observers.addPublishListener(listener),
      figures: () => this.#figures(),
    }
  }

  /**
   * Shuts down (`shutdown()`, bounded by the `flushTimeoutMs` option) when an `await using`
   * declaration holding the queues goes out of scope, however the block is left.
   * @example
   * {
   *   await using queues = await ScouterQueue.fromPath({ psi: './psi_profile.json' })
   *   queues.get('psi').insert(Features.fromObject({ feature_0: 1.5 }))
   * } // everything inserted has been published (or counted as failed) here
   */
  async [asyncDispose](): Promise<void> {
    await this.shutdown()
  }

  /**
   * Shuts the queues down before the process ends, whichever way it ends, so that what was
   * inserted is not lost with the process:
   *
   * - On each of `signals` (SIGTERM from a supervisor such as Kubernetes, systemd or `docker
   *   stop`; SIGINT from Ctrl-C): `shutdown(timeoutMs)`. When it settles (or shortly after its
   *   deadline, whatever happens), the hooks are removed and, if no other listener of the signal
   *   remains, the signal is raised again: the process ends as that signal would have ended it
   *   (killed by it, not an exit code). If the application listens to the signal too, its
   *   listener is called as usual and decides when and how the process ends (call
   *   `await queues.shutdown()` in it to wait for the same shutdown). Another signal while the
   *   shutdown runs starts nothing more.
   * - On `beforeExit`, when the event loop runs empty without a `shutdown()` (a script that
   *   returns): `shutdown(timeoutMs)`; the process then exits normally, with its exit code.
   *   (`process.exit()` and uncaught exceptions skip `beforeExit`: only the exit warning tells.)
   *
   * The hooks are removed when the shutdown settles, whoever started it, so many instances over a
   * process's life leave no listeners behind. Each call installs its own hooks and returns its
   * own remover; the first signal shuts down once for all of them. Once the shutdown has settled
   * there is nothing to protect: the call installs nothing.
   * @param options `signals` (default `['SIGTERM', 'SIGINT']`) and `timeoutMs` (default: the
   * `flushTimeoutMs` option).
   * @returns a function that removes these hooks; calling it again does nothing.
   * @throws {TypeError} for options of the wrong type.
   * @throws {RangeError} for a signal this platform does not have or that cannot be caught
   * (SIGKILL, SIGSTOP), or a `timeoutMs` outside [0, 2147483647].
   * @example
   * const queues = await ScouterQueue.fromPath({ psi: './psi_profile.json' }, new KafkaConfig())
   * queues.installShutdownHooks({ timeoutMs: 20_000 })
   * // ... serve; on SIGTERM everything inserted is published (or counted as failed within
   * // 20 s), then the process ends by SIGTERM.
   */
  installShutdownHooks(options?: ShutdownHooksOptions): () => void {
    const resolved = resolveShutdownHooksOptions(options)
    if (this.#closed) return () => {}
    const hooks = new ShutdownHooks(this, resolved, resolved.timeoutMs ?? this.#flushTimeoutMs, () => this.#hooks.delete(hooks))
    this.#hooks.add(hooks)
    hooks.install()
    return () => hooks.remove()
  }

  async #close(timeoutMs: number | undefined): Promise<ScouterQueueStats<A>> {
    const error = await this.#native.shutdown(timeoutMs)
    if (error) throw errorFromBinding(error)
    return this.stats()
  }
}

/** `fromProfiles`'s objects as JSON text, checked and serialized here so that a bad one is a TypeError now. */
function profileObjects(profiles: unknown): native.BindingProfileSource[] {
  if (!isPlainObject(profiles)) {
    throw new TypeError(`ScouterQueue.fromProfiles: profiles must be an object of alias -> profile object, got ${describe(profiles)}`)
  }
  return Object.keys(profiles).map((alias) => {
    const profile: unknown = profiles[alias]
    if (!isPlainObject(profile)) {
      throw new TypeError(`ScouterQueue.fromProfiles: the profile of alias '${alias}' must be a plain object (the JSON scouter-ml writes), got ${describe(profile)}`)
    }
    let json: string
    try {
      json = JSON.stringify(profile)
    } catch (error) {
      throw new TypeError(`ScouterQueue.fromProfiles: the profile of alias '${alias}' cannot be serialized to JSON`, { cause: error })
    }
    return { alias, path: '', json }
  })
}

function profileSources(paths: unknown): native.BindingProfileSource[] {
  if (!isPlainObject(paths)) {
    throw new TypeError(`ScouterQueue.fromPath: paths must be an object of alias -> profile path, got ${describe(paths)}`)
  }
  const sources: native.BindingProfileSource[] = []
  for (const alias of Object.keys(paths)) {
    const path = paths[alias]
    if (path instanceof URL) {
      sources.push({ alias, path: fileURLToPath(path) })
    } else if (typeof path === 'string' && path.length > 0) {
      sources.push({ alias, path })
    } else {
      throw new TypeError(`ScouterQueue.fromPath: the path of alias '${alias}' must be a non-empty string or URL, got ${describe(path)}`)
    }
  }
  if (sources.length === 0) {
    throw new TypeError('ScouterQueue.fromPath: paths must name at least one drift profile')
  }
  return sources
}

/** The transports of `fromPath` as a list, checked: one config, or a non-empty list of distinct configs. */
function transportList(transport: unknown): readonly TransportConfig[] {
  const isConfig = (value: unknown): value is TransportConfig => value !== null && typeof value === 'object' && toBinding in value
  if (!Array.isArray(transport)) {
    if (isConfig(transport)) return Object.freeze([transport])
    throw new TypeError(
      `ScouterQueue.fromPath: transport must be a transport config such as new FileConfig(), or a list of them, got ${describe(transport)}`,
    )
  }
  if (transport.length === 0) {
    throw new TypeError('ScouterQueue.fromPath: the list of transports must not be empty')
  }
  const list: TransportConfig[] = []
  for (let index = 0; index < transport.length; index++) {
    const config: unknown = transport[index]
    if (!isConfig(config)) {
      throw new TypeError(`ScouterQueue.fromPath: transport ${index} of the list must be a transport config such as new FileConfig(), got ${describe(config)}`)
    }
    if (list.includes(config)) {
      // The second copy would only ever receive what the first just failed.
      throw new TypeError(`ScouterQueue.fromPath: transport ${index} of the list is the same config as transport ${list.indexOf(config)}`)
    }
    list.push(config)
  }
  return Object.freeze(list)
}
