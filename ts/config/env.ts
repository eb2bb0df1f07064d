/**
 * The one place options are resolved: the option given in code, else the first environment
 * variable that is set, else the default, as the Python client does. Transports receive only
 * resolved values. A variable that is set but unusable (a port that is not a number) is a
 * `ConfigError` naming the variable, never silently replaced.
 * @internal
 */
import { describe } from '../builders/check'
import { ConfigError } from '../errors'

/**
 * The longest duration, in milliseconds, that any option or argument takes: 2^31 - 1 (about 24.8
 * days), the limit of Node's timers and of librdkafka's `message.timeout.ms`. The native core
 * checks its own duration options against the same limit; a longer one would overflow a timer.
 */
export const MAX_DURATION_MS = 2_147_483_647

/**
 * Checks a `timeoutMs` argument before anything starts: a duration the native core could not turn
 * into a deadline must be refused here, not fail (or abort) inside it. `where` prefixes the
 * message (`'installShutdownHooks: '`).
 */
export function checkTimeout(timeoutMs: unknown, where = ''): asserts timeoutMs is number | undefined {
  if (timeoutMs === undefined) return
  if (typeof timeoutMs !== 'number') throw new TypeError(`${where}timeoutMs must be a number, got ${describe(timeoutMs)}`)
  if (!(timeoutMs >= 0 && timeoutMs <= MAX_DURATION_MS)) {
    throw new RangeError(`${where}timeoutMs must be a number of milliseconds from 0 to ${MAX_DURATION_MS}, got ${timeoutMs}`)
  }
}

/** The value of the first of `names` that is set and not empty. */
export function fromEnv(names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = process.env[name]
    if (value !== undefined && value !== '') return { name, value }
  }
  return undefined
}

/**
 * A string option: the option, else the env vars, else the default. The error for an option that
 * is not a string names the option but only the type of the value, which may be a secret.
 */
export function resolveString(optionName: string, option: string | undefined, names: readonly string[], fallback: string): string
export function resolveString(optionName: string, option: string | undefined, names: readonly string[]): string | undefined
export function resolveString(optionName: string, option: string | undefined, names: readonly string[], fallback?: string): string | undefined {
  if (option !== undefined) {
    if (typeof option !== 'string') throw new ConfigError(`option \`${optionName}\` must be a string, got ${option === null ? 'null' : typeof option}`)
    return option
  }
  return fromEnv(names)?.value ?? fallback
}

/** A whole-number option in `[min, max]`: the option, else the env vars, else the default. */
export function resolveInteger(
  optionName: string,
  option: number | undefined,
  names: readonly string[],
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const check = (value: unknown, source: string): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${source} must be a whole number from ${min} to ${max}, got ${describe(value)}`)
    }
    return value
  }
  if (option !== undefined) return check(option, `option \`${optionName}\``)
  const env = fromEnv(names)
  if (env !== undefined) return check(Number(env.value), `environment variable ${env.name}`)
  return fallback
}
