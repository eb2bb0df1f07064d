/**
 * Runs the built command line (`dist/cli.js`, what the package's `bin` points at) as a process:
 * to completion (`runCli`), or in the background for a test that acts while it runs
 * (`startCli`: `tail`, signals). The environment is the test's minus the color and transport
 * variables, so that output is plain and every option comes from the flags unless a test sets it.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

/** The bin, as built by `npm run build:ts`. */
export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js')

/** How a run ended, and what it printed. */
export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Variables that would change the output or the transport options if the test runner had them set. */
const CLEARED = [
  'FORCE_COLOR', 'NO_COLOR', 'KAFKA_BROKERS', 'KAFKA_TOPIC', 'SCOUTER_KAFKA_TOPIC', 'KAFKA_USERNAME', 'KAFKA_PASSWORD',
  'RABBITMQ_ADDR', 'RABBITMQ_HOST', 'RABBITMQ_PORT', 'RABBITMQ_QUEUE', 'REDIS_ADDR', 'REDIS_CHANNEL', 'SCOUTER_FILE_PATH',
  'SCOUTER_SERVER_URI', 'SCOUTER_USERNAME', 'SCOUTER_PASSWORD', 'SCOUTER_AUTH_TOKEN',
]

function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of CLEARED) delete env[name]
  return { ...env, ...extra }
}

/** A command line running in the background. */
export interface RunningCli {
  /** Everything printed on stdout so far. */
  stdout(): string
  /** Resolves once stderr holds `text`; rejects if the process ends first. */
  stderrHas(text: string): Promise<void>
  /** Resolves once stdout has at least `count` lines. */
  stdoutLines(count: number): Promise<string[]>
  /** Sends a signal. */
  kill(signal: NodeJS.Signals): void
  /** Stops reading its stdout (a reader that went away, as `| head` does). */
  closeStdout(): void
  /** How it ended. */
  result: Promise<CliResult>
}

/** Starts `scouter-queue ...args`; killed with SIGKILL after `timeoutMs` so a hang fails the test. */
export function startCli(args: string[], { env = {}, timeoutMs = 60_000 }: { env?: Record<string, string>; timeoutMs?: number } = {}): RunningCli {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`)
  const child = spawn(process.execPath, [CLI, ...args], { env: environment(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let ended = false
  const watchers = new Set<() => void>()
  const notify = (): void => watchers.forEach((check) => check())
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => ((stdout += chunk), notify()))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => ((stderr += chunk), notify()))
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      ended = true
      notify()
      resolve({ code, signal, stdout, stderr })
    })
  })
  const until = <T>(what: string, probe: () => T | undefined): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const value = probe()
        if (value !== undefined) {
          watchers.delete(check)
          resolve(value)
        } else if (ended) {
          watchers.delete(check)
          reject(new Error(`the command ended before ${what}; stdout: ${stdout} stderr: ${stderr}`))
        }
      }
      watchers.add(check)
      check()
    })
  return {
    stdout: () => stdout,
    stderrHas: (text) => until(`stderr held ${JSON.stringify(text)}`, () => (stderr.includes(text) ? true : undefined)).then(() => {}),
    stdoutLines: (count) =>
      until(`${count} lines on stdout`, () => {
        const lines = stdout.split('\n').slice(0, -1)
        return lines.length >= count ? lines : undefined
      }),
    kill: (signal) => child.kill(signal),
    closeStdout: () => child.stdout.destroy(),
    result,
  }
}

/** Runs `scouter-queue ...args` to completion. */
export function runCli(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return startCli(args, options).result
}
