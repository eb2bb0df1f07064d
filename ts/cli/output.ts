/**
 * What every command of the command line shares about output: colors decided per stream (only on
 * a terminal, `NO_COLOR` and `FORCE_COLOR` honoured), the exit codes, and the error that means
 * "the command line was wrong" (exit 2) rather than "the work failed" (exit 1).
 * @internal
 */
import pc = require('picocolors')

/** Exit codes: 0 done, 1 the work failed (a bad profile, a document not published), 2 a usage error. */
export const EXIT_OK = 0
/** The work failed. */
export const EXIT_FAILURE = 1
/** The command line itself was wrong (a bad flag, a missing argument, an unknown transport). */
export const EXIT_USAGE = 2

/** A mistake in the command line: reported with the command's name and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** The color functions of picocolors, switched on or off. */
export type Colors = ReturnType<typeof pc.createColors>

/**
 * Whether to color what goes to `stream`: `FORCE_COLOR` (any value but `0` or `false`) forces it,
 * `NO_COLOR` (any non-empty value, https://no-color.org) forbids it, else only on a terminal that
 * is not `TERM=dumb`.
 */
export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Colors {
  const force = env.FORCE_COLOR
  let enabled: boolean
  if (force !== undefined && force !== '') enabled = force !== '0' && force !== 'false'
  else if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') enabled = false
  else enabled = stream.isTTY === true && env.TERM !== 'dumb'
  return pc.createColors(enabled)
}

/** A writer of whole lines to one stream, with that stream's colors. */
export interface Printer {
  /** The colors to use for this stream. */
  readonly c: Colors
  /** Writes `text` and a newline. */
  line(text: string): void
}

/** A {@link Printer} on `stream`. */
export function printer(stream: NodeJS.WriteStream): Printer {
  return { c: colorsFor(stream), line: (text) => void stream.write(`${text}\n`) }
}
