/**
 * Clean stops for long-running commands: the first SIGINT or SIGTERM asks the command to stop
 * (it finishes what it is doing, closes its connection and prints its summary); a second one
 * exits at once with the conventional code (130 for SIGINT, 143 for SIGTERM).
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
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    get stopped() {
      return stopped
    },
    whenStopped,
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}
