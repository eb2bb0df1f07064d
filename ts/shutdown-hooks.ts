/**
 * Shutdown hooks: what `ScouterQueue.installShutdownHooks()` installs. A service rarely ends by
 * calling `shutdown()` itself: its supervisor sends SIGTERM (Kubernetes, systemd, `docker stop`),
 * a developer presses Ctrl-C (SIGINT), or a script simply runs out of work. Each of these would
 * end the process with items not yet published. The hooks turn each into a `shutdown()` first,
 * then let the process end as it would have ended without them: by the same signal, or normally.
 * @internal
 */
import { constants } from 'node:os'

import { describe, isPlainObject } from './builders/check'
import { checkTimeout, MAX_DURATION_MS } from './config/options'
import { emitWarningNow } from './pending-at-exit'

/**
 * A signal name, as Node spells it (the same names as `NodeJS.Signals`, without needing
 * `@types/node`). Which ones exist depends on the platform; SIGKILL and SIGSTOP cannot be caught.
 */
export type ShutdownSignal =
  | 'SIGABRT'
  | 'SIGALRM'
  | 'SIGBUS'
  | 'SIGCHLD'
  | 'SIGCONT'
  | 'SIGFPE'
  | 'SIGHUP'
  | 'SIGILL'
  | 'SIGINT'
  | 'SIGIO'
  | 'SIGIOT'
  | 'SIGKILL'
  | 'SIGPIPE'
  | 'SIGPOLL'
  | 'SIGPROF'
  | 'SIGPWR'
  | 'SIGQUIT'
  | 'SIGSEGV'
  | 'SIGSTKFLT'
  | 'SIGSTOP'
  | 'SIGSYS'
  | 'SIGTERM'
  | 'SIGTRAP'
  | 'SIGTSTP'
  | 'SIGTTIN'
  | 'SIGTTOU'
  | 'SIGUNUSED'
  | 'SIGURG'
  | 'SIGUSR1'
  | 'SIGUSR2'
  | 'SIGVTALRM'
  | 'SIGWINCH'
  | 'SIGXCPU'
  | 'SIGXFSZ'
  | 'SIGBREAK'
  | 'SIGLOST'
  | 'SIGINFO'

/** Options of {@link ScouterQueue.installShutdownHooks}. */
export interface ShutdownHooksOptions {
  /**
   * The signals that shut the queues down before the process ends. An empty list installs only
   * the `beforeExit` hook. Each must be a signal of this platform that can be caught (not SIGKILL
   * or SIGSTOP). @default ['SIGTERM', 'SIGINT']
   */
  signals?: readonly ShutdownSignal[]
  /**
   * The deadline, in milliseconds from 0 to 2147483647, of the `shutdown()` a hook starts: what
   * is unconfirmed then counts as `failed`, and the process ends. Without it, the `flushTimeoutMs`
   * option of `fromPath` (default 30000) bounds the shutdown, as for `shutdown()` called without
   * an argument. Keep it below the supervisor's grace period (Kubernetes:
   * `terminationGracePeriodSeconds`, 30 s by default) or the supervisor's SIGKILL comes first.
   */
  timeoutMs?: number
}

/** What the hooks shut down: a `ScouterQueue` (its public `shutdown`). */
export interface ShutdownTarget {
  shutdown(timeoutMs?: number): Promise<unknown>
}

/** The checked options: signals without repeats, and the deadline given, if any. */
export interface ResolvedShutdownHooksOptions {
  signals: readonly ShutdownSignal[]
  timeoutMs: number | undefined
}

const DEFAULT_SIGNALS: readonly ShutdownSignal[] = ['SIGTERM', 'SIGINT']

/**
 * How long past its deadline a shutdown started by a signal may take to settle (the native core
 * fails what is unconfirmed at the deadline, then stops its tasks and closes the transport)
 * before the signal ends the process anyway. It only matters if something hangs: a shutdown
 * always settles soon after its deadline.
 */
const SIGNAL_GRACE_MS = 1000

/**
 * Checks the options of `installShutdownHooks` before anything is installed.
 * @throws {TypeError} for an options object, a `signals` or a `timeoutMs` of the wrong type.
 * @throws {RangeError} for a signal this platform does not have or that cannot be caught, or a
 * `timeoutMs` outside [0, 2147483647].
 */
export function resolveShutdownHooksOptions(options: unknown): ResolvedShutdownHooksOptions {
  const where = 'installShutdownHooks: '
  if (options === undefined) return { signals: DEFAULT_SIGNALS, timeoutMs: undefined }
  if (!isPlainObject(options)) throw new TypeError(`${where}options must be a plain object, got ${describe(options)}`)
  const { signals: given, timeoutMs } = options
  checkTimeout(timeoutMs, where)
  if (given === undefined) return { signals: DEFAULT_SIGNALS, timeoutMs }
  if (!Array.isArray(given)) {
    throw new TypeError(`${where}signals must be an array of signal names such as ['SIGTERM', 'SIGINT'], got ${describe(given)}`)
  }
  const signals = new Set<ShutdownSignal>()
  for (const signal of given as unknown[]) {
    if (typeof signal !== 'string') throw new TypeError(`${where}signals must hold signal names (strings), got ${describe(signal)}`)
    if (!Object.hasOwn(constants.signals, signal)) {
      throw new RangeError(`${where}${JSON.stringify(signal)} is not a signal of this platform (${process.platform})`)
    }
    if (signal === 'SIGKILL' || signal === 'SIGSTOP') throw new RangeError(`${where}${signal} cannot be caught, so it cannot be hooked`)
    signals.add(signal as ShutdownSignal)
  }
  return { signals: [...signals], timeoutMs }
}

/**
 * The listeners of one `installShutdownHooks()` call.
 *
 * - On one of its signals: `shutdown(timeoutMs)`. When that settles (or `deadlineMs` plus a short
 *   grace has passed, whatever happens), its listeners are removed and, if no other listener of
 *   that signal remains, the signal is raised again so that the process ends as the signal would
 *   have ended it (killed by it, not an exit code). If the application listens to that signal
 *   too, its listener runs as usual and decides when the process ends. Later signals, while the
 *   shutdown runs, start nothing more.
 * - On `beforeExit` (the event loop ran empty without a `shutdown()`): `shutdown(timeoutMs)`,
 *   whose pending promise keeps the loop alive; when it settles, the process exits normally.
 * - When the target's shutdown settles, whoever started it, the target calls `remove()`: a
 *   shut-down queue has nothing left to protect, and hooks must not pile up over a process's life.
 */
export class ShutdownHooks {
  readonly #target: ShutdownTarget
  readonly #signals: readonly ShutdownSignal[]
  readonly #timeoutMs: number | undefined
  readonly #deadlineMs: number
  readonly #onRemoved: () => void
  #installed = false
  /** The first signal received: the one raised again once the shutdown has settled. */
  #signal: ShutdownSignal | undefined = undefined
  #backstop: ReturnType<typeof setTimeout> | undefined = undefined

  readonly #onSignal = (signal: ShutdownSignal): void => {
    if (this.#signal !== undefined) return
    this.#signal = signal
    // Ref'd on purpose: whatever happens to the shutdown, the process ends by this signal, not by
    // an empty event loop (which would be exit code 0).
    const waitMs = Math.min(this.#deadlineMs + SIGNAL_GRACE_MS, MAX_DURATION_MS)
    this.#backstop = setTimeout(() => {
      emitWarningNow(
        `scouter-queue: the shutdown started by ${signal} did not settle within ${waitMs} ms; the process ends without waiting for it`,
        'SCOUTER_SHUTDOWN_TIMEOUT',
      )
      this.#end(signal)
    }, waitMs)
    const shutdown = this.#startShutdown()
    shutdown.then(
      () => this.#end(signal),
      (error: unknown) => {
        emitWarningNow(`scouter-queue: the shutdown started by ${signal} failed: ${messageOf(error)}`, 'SCOUTER_SHUTDOWN_FAILED')
        this.#end(signal)
      },
    )
  }

  /** Starts the shutdown; a synchronous throw becomes a rejection, handled like any other. */
  #startShutdown(): Promise<unknown> {
    try {
      return this.#target.shutdown(this.#timeoutMs)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  readonly #onBeforeExit = (): void => {
    // Once is enough: the next 'beforeExit', after the shutdown, must let the process exit.
    process.removeListener('beforeExit', this.#onBeforeExit)
    if (this.#signal !== undefined) return
    const shutdown = this.#startShutdown()
    shutdown.then(
      () => this.remove(),
      (error: unknown) => {
        process.emitWarning(`scouter-queue: the shutdown at beforeExit failed: ${messageOf(error)}`, { code: 'SCOUTER_SHUTDOWN_FAILED' })
        this.remove()
      },
    )
  }

  /**
   * @param deadlineMs when a signal's shutdown is due to settle: `timeoutMs`, else the target's
   * `flushTimeoutMs`.
   * @param onRemoved called once, when the hooks are removed.
   */
  constructor(target: ShutdownTarget, options: ResolvedShutdownHooksOptions, deadlineMs: number, onRemoved: () => void) {
    this.#target = target
    this.#signals = options.signals
    this.#timeoutMs = options.timeoutMs
    this.#deadlineMs = deadlineMs
    this.#onRemoved = onRemoved
  }

  /** Adds the listeners. */
  install(): void {
    if (this.#installed) return
    this.#installed = true
    for (const signal of this.#signals) process.on(signal, this.#onSignal)
    process.on('beforeExit', this.#onBeforeExit)
  }

  /** Removes the listeners; idempotent. A signal's shutdown still under way still ends the process. */
  remove(): void {
    if (!this.#installed) return
    this.#installed = false
    for (const signal of this.#signals) process.removeListener(signal, this.#onSignal)
    process.removeListener('beforeExit', this.#onBeforeExit)
    this.#onRemoved()
  }

  /** After a signal's shutdown: without other listeners of the signal, the signal ends the process. */
  #end(signal: ShutdownSignal): void {
    clearTimeout(this.#backstop)
    this.remove()
    if (process.listenerCount(signal) > 0) return
    try {
      // No listener left, so the default action applies: the process is killed by the signal.
      process.kill(process.pid, signal)
    } catch {
      // A platform that cannot raise it (Windows, for most signals): the shell's convention.
      process.exit(128 + (constants.signals[signal as keyof typeof constants.signals] ?? 0))
    }
  }
}

/** The message of something thrown, without running code that could throw. */
function messageOf(thrown: unknown): string {
  try {
    return thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)
  } catch {
    return describe(thrown)
  }
}
