/**
 * The `logger` option: any object with `debug`, `info`, `warn` and `error` methods (pino,
 * winston, `console` all fit). Each background event is one line, a single string argument, so
 * that every logger prints it the same way. The level comes from the `logLevel` option, else
 * `SCOUTER_LOG_LEVEL`, else `'info'`.
 */
import { describe, isPlainObject } from './builders/check'
import { optionSpec, resolveText } from './config/options'

/** What `logger` must have. */
export interface Logger {
  /** Each published document (only logged at level `'debug'`). */
  debug(message: string): unknown
  /** Start, shutdown, a transport that recovered. */
  info(message: string): unknown
  /** Drops, a transport that opened its circuit, a lost connection. */
  warn(message: string): unknown
  /** Publishes that failed for good, other failures. */
  error(message: string): unknown
}

/** The levels, from the most talkative; `'silent'` logs nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

/** From the `logLevel` row of the option table (in its order), so the two cannot drift apart. */
const LEVELS = optionSpec('queue', 'logLevel').values as readonly LogLevel[]

/** @internal A logger with its level applied; calls that throw are swallowed. */
export class LevelledLogger {
  readonly #logger: Logger
  readonly #rank: number

  constructor(logger: Logger, level: LogLevel) {
    this.#logger = logger
    this.#rank = LEVELS.indexOf(level)
  }

  /** Whether lines of `level` are written. */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return LEVELS.indexOf(level) >= this.#rank
  }

  log(level: Exclude<LogLevel, 'silent'>, message: string): void {
    if (!this.enabled(level)) return
    try {
      this.#logger[level](`scouter-queue: ${message}`)
    } catch {
      // A logger that throws must not break the queue; there is nowhere better to say so.
    }
  }
}

/** @internal Checks the `logger` and `logLevel` options. */
export function resolveLogger(logger: unknown, level: unknown): LevelledLogger | undefined {
  if (logger === undefined) return undefined
  if (logger === null || (typeof logger !== 'object' && typeof logger !== 'function')) {
    throw new TypeError(`ScouterQueue.fromPath: logger must be an object with debug, info, warn and error methods, got ${describe(logger)}`)
  }
  for (const method of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof (logger as Record<string, unknown>)[method] !== 'function') {
      throw new TypeError(`ScouterQueue.fromPath: logger.${method} must be a function${isPlainObject(logger) ? '' : ` (got ${describe(logger)})`}`)
    }
  }
  return new LevelledLogger(logger as Logger, resolveLevel(level))
}

function resolveLevel(level: unknown): LogLevel {
  if (level !== undefined && (typeof level !== 'string' || !LEVELS.includes(level as LogLevel))) {
    throw new TypeError(`ScouterQueue.fromPath: logLevel must be one of ${LEVELS.join(', ')}, got ${describe(level)}`)
  }
  // From code, exactly one of the levels; from SCOUTER_LOG_LEVEL, any case (the table's rule).
  return resolveText('queue', 'logLevel', level) as LogLevel
}
