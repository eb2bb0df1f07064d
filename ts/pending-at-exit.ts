/**
 * The warning of a process that exits with items not yet published. Nothing native keeps the
 * event loop alive, so a script that returns without `shutdown()` simply ends (as a process
 * should): this module makes sure that the loss is said out loud, once, instead of silently.
 *
 * One `'exit'` listener serves every `ScouterQueue` of the process: it is added when the first
 * open one registers and removed when the last one's shutdown completes, so that a process that
 * opens and shuts down queues many times never piles up listeners. It emits one warning, code
 * `SCOUTER_PENDING_AT_EXIT`, naming the items pending in all of them together.
 * @internal
 */
import type { QueueStats } from './stats'

/** Reads the stats of every queue of one `ScouterQueue` (draining their JS buffers first). */
export type StatsSource = () => readonly QueueStats[]

/** The `ScouterQueue`s whose shutdown has not completed. */
const open = new Set<StatsSource>()

/**
 * Counts `source` among the open `ScouterQueue`s until the returned function is called (when its
 * shutdown has completed). Calling that function again does nothing.
 */
export function watchPendingAtExit(source: StatsSource): () => void {
  if (open.size === 0) process.on('exit', onExit)
  open.add(source)
  return () => {
    if (!open.delete(source)) return
    if (open.size === 0) process.removeListener('exit', onExit)
  }
}

/**
 * The warning for what an exiting process leaves unpublished, or `undefined` when it leaves
 * nothing. The one place that decides what "lost at exit" means: items `pending` in memory (their
 * JS buffers drained into the native counts) are lost with the process; items whose documents are
 * in the write-ahead spool (`spooledItems`) are not: the next process on the same `spoolDir`
 * delivers them, and the warning says so instead.
 */
export function pendingAtExitMessage(stats: readonly QueueStats[]): string | undefined {
  let pending = 0
  let spooled = 0
  for (const s of stats) {
    pending += s.pending
    spooled += s.spooledItems
  }
  if (pending === 0) return undefined
  const count = (n: number) => (n === 1 ? '1 item' : `${n} items`)
  const advice = 'call shutdown(), or installShutdownHooks()'
  const waiting = 'wait in the spool for the next process on the same spoolDir to deliver them'
  const lost = pending - spooled
  if (lost === 0) return `scouter-queue: the process is exiting with ${count(pending)} not yet published (${advice}); they ${waiting}`
  const alsoSpooled = spooled > 0 ? `; ${count(spooled)} more ${waiting}` : ''
  return `scouter-queue: the process is exiting with ${count(lost)} not yet published (${advice}); they are lost${alsoSpooled}`
}

/**
 * Emits a process warning now, not on the next tick as `process.emitWarning` does: in an
 * `'exit'` listener, or just before a signal ends the process, there is no next tick. Node's own
 * warning printer is a `'warning'` listener, so the warning is printed in Node's format
 * (`(node:PID) [CODE] Warning: ...`, synchronously to a file, a pipe on Linux or a terminal),
 * honours `--no-warnings`, `--disable-warning` and `--trace-warnings`, and reaches the
 * application's `process.on('warning')` listeners. This is what Node does for its own warnings at
 * exit. A listener that throws is ignored: the process is ending either way.
 */
export function emitWarningNow(message: string, code: string): void {
  const warning = new Error(message) as Error & { code: string }
  warning.name = 'Warning'
  warning.code = code
  try {
    process.emit('warning', warning)
  } catch {
    // A 'warning' listener threw; nothing more can be done for it here.
  }
}

function onExit(): void {
  const stats: QueueStats[] = []
  for (const source of open) {
    try {
      stats.push(...source())
    } catch {
      // A queue whose stats cannot be read has nothing to add to the count.
    }
  }
  open.clear()
  process.removeListener('exit', onExit)
  const message = pendingAtExitMessage(stats)
  if (message !== undefined) emitWarningNow(message, 'SCOUTER_PENDING_AT_EXIT')
}
