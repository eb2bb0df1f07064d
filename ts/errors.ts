/**
 * Errors scouter-queue throws or reports. Each carries a stable `code`; programming mistakes in
 * builders and `insert` are plain `TypeError`/`RangeError`, as for any JavaScript API.
 */
import type { BindingError, BindingErrorEvent } from './native'

/** Base class of every scouter-queue error. `code` is stable across versions. */
export class ScouterQueueError extends Error {
  /** A stable identifier, e.g. `'SCOUTER_PROFILE_INVALID'`. */
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A drift profile that is missing, unreadable, not JSON, or lacks a field the queue needs. */
export class ProfileError extends ScouterQueueError {
  /** The profile file; undefined for a profile given as an object (`fromProfiles`). */
  readonly file: string | undefined
  /** The JSON path of the offending field (`config.sample_size`), when one is to blame. */
  readonly field: string | undefined

  constructor(message: string, file: string | undefined, field?: string) {
    super('SCOUTER_PROFILE_INVALID', message)
    this.file = file
    this.field = field
  }
}

/** An option that cannot be used, or a transport that cannot be set up. */
export class ConfigError extends ScouterQueueError {
  constructor(message: string) {
    super('SCOUTER_CONFIG_INVALID', message)
  }
}

/** A publish that failed after all retries, or a transport that lost its connection. */
export class TransportError extends ScouterQueueError {
  constructor(message: string) {
    super('SCOUTER_TRANSPORT', message)
  }
}

/**
 * Reported to `onError`: the disk spool (`spoolDir`) could not be written or read, held a record
 * torn by a crash (cut off; the records before it are kept), or is full and drops its oldest
 * documents (counted in `stats().dropped`).
 */
export class SpoolError extends ScouterQueueError {
  constructor(message: string) {
    super('SCOUTER_SPOOL', message)
  }
}

/** `insert` on a queue that was shut down. */
export class QueueClosedError extends ScouterQueueError {
  /** The queue's alias. */
  readonly alias: string

  constructor(alias: string, options?: { cause?: unknown }) {
    super('SCOUTER_QUEUE_CLOSED', `queue '${alias}' is shut down; create a new ScouterQueue to publish again`, options)
    this.alias = alias
  }
}

/** `get(alias)` with an alias that was not given to `fromPath`. */
export class UnknownAliasError extends ScouterQueueError {
  /** The aliases that exist. */
  readonly aliases: readonly string[]

  constructor(alias: string, aliases: readonly string[]) {
    super(
      'SCOUTER_UNKNOWN_ALIAS',
      `no queue has alias ${JSON.stringify(alias)}; known aliases: ${aliases.map((a) => JSON.stringify(a)).join(', ')}`,
    )
    this.aliases = aliases
  }
}

/**
 * The typed error for a failure the native core returned as data: the documented class of its
 * code, `ScouterQueueError` itself for an internal failure (`SCOUTER_INTERNAL`, a panic caught in
 * the core).
 */
export function errorFromBinding(error: BindingError | BindingErrorEvent): ScouterQueueError {
  switch (error.code) {
    case 'SCOUTER_QUEUE_CLOSED':
      return new QueueClosedError('alias' in error ? error.alias : (/`([^`]*)`/.exec(error.message)?.[1] ?? '?'))
    case 'SCOUTER_PROFILE_INVALID': {
      const { file, field } = error as BindingError
      return new ProfileError(error.message, file ?? undefined, field ?? undefined)
    }
    case 'SCOUTER_CONFIG_INVALID':
      return new ConfigError(error.message)
    case 'SCOUTER_TRANSPORT':
      return new TransportError(error.message)
    case 'SCOUTER_SPOOL':
      return new SpoolError(error.message)
    default:
      return new ScouterQueueError(error.code, error.message)
  }
}

/**
 * `thrown` as the package's error: a `ScouterQueueError` as it is; anything else (an error thrown
 * across N-API, a non-error) as a `ScouterQueueError` with code `SCOUTER_INTERNAL` and the
 * original as its `cause`.
 */
export function asScouterQueueError(thrown: unknown): ScouterQueueError {
  if (thrown instanceof ScouterQueueError) return thrown
  let message: string
  try {
    message = thrown instanceof Error ? thrown.message : String(thrown)
  } catch {
    message = 'an unknown failure'
  }
  return new ScouterQueueError('SCOUTER_INTERNAL', message, { cause: thrown })
}
