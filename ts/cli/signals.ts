/**
 * Clean stops for long-running commands: the first SIGINT or SIGTERM asks the command to stop
 * (it finishes what it is doing, closes its connection and prints its summary); a second one
 * exits at once with the conventional code (130 for SIGINT, 143 for SIGTERM). A reader of
 * stdout that went away (`tail ... | head`) asks for a stop too, as SIGPIPE would.
 * @internal
 */

/** A stop request that a loop polls and a wait can be cut short by. */
export interface StopSignal {
  /** Whether a stop was asked for. */
  readonly stopped: boolean
  /** Resolves when a stop is asked for. */
  readonly whenStopped: Promise<void>
  /** Removes the signal handlers. */
  dispose(): void
}

/** Installs SIGINT/SIGTERM handlers and returns the stop request they set. */
export function onStopSignals(): StopSignal {
  let stopped = false
  let resolve!: () => void
  const whenStopped = new Promise<void>((r) => (resolve = r))
  const handler = (signal: NodeJS.Signals): void => {
    if (stopped) process.exit(signal === 'SIGINT' ? 130 : 143)
    stopped = true
    resolve()
  }
  const closed = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE') return
    stopped = true
    resolve()
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  process.stdout.on('error', closed)
  return {
    get stopped() {
      return stopped
    },
    whenStopped,
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
      process.stdout.off('error', closed)
    },
  }
}
