/**
 * The one place options are resolved: the option given in code, else the first environment
 * variable that is set, else the default, as the Python client does. Transports receive only
 * resolved values. A variable that is set but unusable (a port that is not a number) is a
 * `ConfigError` naming the variable, never silently replaced.
 * @internal
 */
import { ConfigError } from '../errors'

/** The value of the first of `names` that is set and not empty. */
export function fromEnv(names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = process.env[name]
    if (value !== undefined && value !== '') return { name, value }
  }
  return undefined
}

/** A string option: the option, else the env vars, else the default. */
export function resolveString(option: string | undefined, names: readonly string[], fallback: string): string
export function resolveString(option: string | undefined, names: readonly string[]): string | undefined
export function resolveString(option: string | undefined, names: readonly string[], fallback?: string): string | undefined {
  if (option !== undefined) {
    if (typeof option !== 'string') throw new ConfigError(`option must be a string, got ${typeof option}`)
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
  const check = (value: number, source: string): number => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${source} must be a whole number from ${min} to ${max}, got ${value}`)
    }
    return value
  }
  if (option !== undefined) return check(option, `option \`${optionName}\``)
  const env = fromEnv(names)
  if (env !== undefined) return check(Number(env.value), `environment variable ${env.name}`)
  return fallback
}
