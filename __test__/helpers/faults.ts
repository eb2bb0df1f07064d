/**
 * Fault injection for the `faults-*` suites: SIGKILL, SIGSTOP and SIGCONT a real broker through
 * `scripts/services.sh kill|pause|resume|up NAME`, without blocking the event loop (the queue's
 * callbacks and the test's consumers keep running while a broker restarts).
 *
 * Two safety nets keep the brokers usable by the suites that run next:
 * - `faultLock()`: the fault suites take one cross-process lock (flock on `.services/faults.lock`),
 *   so two of them never break brokers under each other, nor compete for the CPU while one
 *   measures. (Suites that are not fault suites do not take it, and a plain `npx ava` runs files in
 *   parallel: run the `faults-*` files in an ava run of their own, `npx ava __test__/faults-*.spec.ts`,
 *   not beside kafka/rabbitmq/redis.spec.ts, whose broker they would kill.)
 * - `recoverOnExit(name)`: a detached watchdog that resumes and starts the broker once this test
 *   process is gone, even if it was killed (an ava time-out) before its teardown could run.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

import type { ServerRecords } from '../../ts/index'
import { scaled } from './slowdown'

export type BrokerName = 'kafka' | 'rabbitmq' | 'redis'

const repo = join(__dirname, '..', '..')
const services = join(repo, 'scripts', 'services.sh')
const lockFile = join(repo, '.services', 'faults.lock')

/** Runs `scripts/services.sh ARGS...` asynchronously; resolves with its stdout, rejects on failure. */
export function servicesSh(args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [services, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`services.sh ${args.join(' ')} failed: ${error.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

/** SIGKILL the broker and wait until its process is gone and its ports are closed. */
export const killBroker = (name: BrokerName) => servicesSh(['kill', name])
/** SIGSTOP the broker and wait until it is stopped. */
export const pauseBroker = (name: BrokerName) => servicesSh(['pause', name])
/** SIGCONT the broker and wait until it serves again. */
export const resumeBroker = (name: BrokerName) => servicesSh(['resume', name])
/** Start the broker if it is down and wait until it serves (`services.sh up NAME`). */
export const upBroker = (name: BrokerName) => servicesSh(['up', name])

/** Brings a broker back whatever state a test left it in: resumed if paused, started if killed. */
export async function recoverBroker(name: BrokerName): Promise<void> {
  await servicesSh(['resume', name]).catch(() => {}) // fails only when it is not running: then up starts it
  await upBroker(name)
}

/**
 * Takes the fault suites' exclusive lock (waits for another fault suite to finish); resolves
 * with the function that releases it. A `flock` child holds the lock until its stdin closes,
 * which also happens when this process dies.
 */
export function faultLock(): Promise<() => void> {
  mkdirSync(join(repo, '.services'), { recursive: true })
  return new Promise((resolve, reject) => {
    const holder: ChildProcess = spawn('flock', ['-o', '-x', '-w', '600', lockFile, '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    let out = ''
    holder.once('error', reject)
    holder.once('exit', (code) => reject(new Error(`flock exited (${code}) before taking ${lockFile}`)))
    holder.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      if (out.includes('locked')) {
        holder.removeAllListeners('exit')
        resolve(() => holder.stdin!.end())
      }
    })
  })
}

/**
 * Starts a detached watchdog that, once this process has exited (however it ended), takes the
 * fault lock (so it never undoes the fault of a suite that runs next) and resumes and starts
 * `name` (`services.sh resume`, then `up`). Harmless when the broker is already serving.
 */
export function recoverOnExit(name: BrokerName): void {
  const recover = `bash '${services}' resume ${name} >/dev/null 2>&1; bash '${services}' up ${name} >/dev/null 2>&1; true`
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done
exec flock -o -x -w 900 '${lockFile}' bash -c "${recover}"`
  spawn('bash', ['-c', script], { detached: true, stdio: 'ignore' }).unref()
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `done` every 20 ms until it holds; rejects after `timeoutMs` (scaled by SCOUTER_TEST_SLOWDOWN). */
export async function until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const started = Date.now()
  const limit = scaled(timeoutMs)
  while (!done()) {
    if (Date.now() - started > limit) throw new Error(`timed out after ${limit} ms waiting for ${what}`)
    await sleep(20)
  }
}

/**
 * Calls `insertOne(n)` for n = 0, 1, 2, ... at `perSecond` on average (in 20 ms ticks, yielding to
 * the event loop between ticks) until `stop()` holds; resolves with the number inserted.
 */
export async function paced(perSecond: number, insertOne: (n: number) => void, stop: () => boolean): Promise<number> {
  const started = Date.now()
  let n = 0
  while (!stop()) {
    const due = Math.floor(((Date.now() - started) * perSecond) / 1000)
    while (n < due) insertOne(n++)
    await sleep(20)
  }
  return n
}

/** The row ids (`context.id`) of LLM documents, one per record, in order. */
export function llmIds(document: ServerRecords): number[] {
  return document.records.map((record) => {
    if (!('LLMDrift' in record)) throw new Error(`not an LLM record: ${JSON.stringify(record).slice(0, 200)}`)
    const id = record.LLMDrift.record.context.id
    if (typeof id !== 'number') throw new Error(`LLM record without a numeric context.id: ${JSON.stringify(record).slice(0, 200)}`)
    return id
  })
}

/** Ids that occur more than once, with their counts. */
export function duplicates(ids: number[]): Map<number, number> {
  const seen = new Map<number, number>()
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1)
  return new Map([...seen].filter(([, count]) => count > 1))
}

/** 0, 1, ..., n - 1. */
export const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** The ids in 0..n-1 that are not in `ids`. */
export function missing(n: number, ids: Iterable<number>): number[] {
  const have = new Set(ids)
  return range(n).filter((id) => !have.has(id))
}

/** Compact form of a sorted id list for messages: "3-7, 12, 40-41". */
export function spans(ids: number[]): string {
  const sorted = [...ids].sort((a, b) => a - b)
  const out: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return out.join(', ')
}
