/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (in a pipe, a log file
 * or a test it writes nothing, so output stays clean). Written here rather than taken from a
 * library: it is one line of text redrawn with `\r`, at most ten times a second.
 * @internal
 */
import type { Colors } from './output'

/** How often the bar may be redrawn. */
const REDRAW_MS = 100
/** Width of the bar itself, in characters. */
const WIDTH = 30

/** A progress bar over `total` units (bytes, documents), with a free-text status after it. */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream
  readonly #colors: Colors
  readonly #total: number
  readonly #enabled: boolean
  #drawnAt = 0
  #drawn = false

  /** A bar over `total` units on `stream`; inert unless `stream` is a terminal. */
  constructor(stream: NodeJS.WriteStream, colors: Colors, total: number) {
    this.#stream = stream
    this.#colors = colors
    this.#total = total
    this.#enabled = stream.isTTY === true
  }

  /** Shows `done` of the total and `status`; redraws at most every 100 ms unless `force`. */
  update(done: number, status: string, force = false): void {
    if (!this.#enabled) return
    const now = Date.now()
    if (!force && now - this.#drawnAt < REDRAW_MS) return
    this.#drawnAt = now
    const ratio = this.#total > 0 ? Math.min(1, done / this.#total) : 1
    const filled = Math.round(ratio * WIDTH)
    const bar = this.#colors.green('█'.repeat(filled)) + this.#colors.dim('░'.repeat(WIDTH - filled))
    const percent = `${Math.floor(ratio * 100)}%`.padStart(4)
    this.#stream.write(`\r${bar} ${percent} ${status}\u001b[K`)
    this.#drawn = true
  }

  /** Removes the bar so that the next output starts on a clean line. */
  clear(): void {
    if (this.#drawn) this.#stream.write('\r\u001b[K')
    this.#drawn = false
  }
}
