/**
 * The option table's JavaScript side. The table itself (every option's env vars, default and
 * rule) lives in the native core (`src/core/options.rs`), which also checks every value, so the
 * TypeScript configs, the core's defaults and its checks at the N-API boundary cannot disagree.
 * What stays here is what only JavaScript can do: read `process.env`, and tell the JavaScript
 * type of a value that is neither a string nor a number.
 *
 * Resolution order, as in the Python client: the option given in code, else the first of its
 * environment variables that is set and not empty, else the default. A variable that is set but
 * unusable (a port that is not a number) is a `ConfigError` naming the variable, never silently
 * replaced.
 * @internal
 */
import native = require('../native')
import type { BindingOptionSpec } from '../native'
import { describe } from '../builders/check'
import { ConfigError } from '../errors'

/** Which object an option belongs to: the options of `fromPath`, or one transport config. */
export type OptionScope = BindingOptionSpec['scope']

const TABLE: ReadonlyMap<string, BindingOptionSpec> = new Map(native.optionTable().map((spec) => [`${spec.scope}.${spec.name}`, spec]))

/** The row of `scope`'s option `name`; a missing row is a bug of this package. */
export function optionSpec(scope: OptionScope, name: string): BindingOptionSpec {
  const spec = TABLE.get(`${scope}.${name}`)
  if (spec === undefined) throw new Error(`scouter-queue: no option ${scope}.${name} in the option table`)
  return spec
}

/** Every row of the table, in its order. */
export function optionRows(): readonly BindingOptionSpec[] {
  return [...TABLE.values()]
}

/**
 * The longest duration, in milliseconds, that any option or argument takes: 2^31 - 1 (about 24.8
 * days), the limit of Node's timers and of librdkafka's `message.timeout.ms`.
 */
export const MAX_DURATION_MS: number = optionSpec('queue', 'flushTimeoutMs').max as number

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
function fromEnv(names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = process.env[name]
    if (value !== undefined && value !== '') return { name, value }
  }
  return undefined
}

/** `value` checked by the native core against `spec`'s rule; `envName` when it came from there. */
function check(spec: BindingOptionSpec, value: string | number, envName?: string): string | number {
  try {
    return native.checkOption(spec.scope, spec.name, value, envName)
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown }
    if (code === 'SCOUTER_CONFIG_INVALID' && typeof message === 'string') throw new ConfigError(message)
    throw error
  }
}

/**
 * `scope`'s option `name`: `given` (from code) when it is not `undefined`, else its environment
 * variables, else its default (`undefined` when the table has none). Every value is checked
 * against the table's rule; a bad one is a `ConfigError` naming the option or the variable, and
 * showing a secret's value never.
 */
export function resolveOption(scope: OptionScope, name: string, given: unknown): string | number | undefined {
  const spec = optionSpec(scope, name)
  if (given !== undefined) {
    if (typeof given === 'string' || typeof given === 'number') return check(spec, given)
    const expected = spec.rule === 'whole' || spec.rule === 'millis' ? 'a number' : 'a string'
    const got = spec.secret ? (given === null ? 'null' : typeof given) : describe(given)
    throw new ConfigError(`invalid config: option \`${name}\` must be ${expected}, got ${got}`)
  }
  const env = fromEnv(spec.env)
  if (env !== undefined) return check(spec, env.value, env.name)
  return spec.default ?? undefined
}

/** A string option (see {@link resolveOption}); `undefined` only when unset without a default. */
export function resolveText(scope: OptionScope, name: string, given: unknown): string | undefined {
  return resolveOption(scope, name, given) as string | undefined
}

/** A number option that has a default (see {@link resolveOption}). */
export function resolveNumber(scope: OptionScope, name: string, given: unknown): number {
  return resolveOption(scope, name, given) as number
}

/** A number option without a default, or `undefined` (see {@link resolveOption}). */
export function resolveOptionalNumber(scope: OptionScope, name: string, given: unknown): number | undefined {
  return resolveOption(scope, name, given) as number | undefined
}

/** Whether a setting named `key` (a librdkafka key, an option name) holds a secret. */
export function isSecretKey(key: string): boolean {
  return native.isSecretKey(key)
}

/** `address` with any password replaced by `[redacted]`, for printing. */
export function redactUrl(address: string): string {
  return native.redactUrl(address)
}
