/**
 * Runs a TypeScript snippet in a fresh Node process (through tsx), for what must not happen in the
 * test process itself: an exit on an unhandled rejection, or an abort inside the native addon.
 * The snippet gets `lib`, the package's public exports (`ts/index.ts`), and `fixtures`, the paths
 * of the four fixture profiles. `startChild` does the same for a test that acts while the child runs.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { profiles } from './fixtures'
import { scaled } from './slowdown'

/** How the child ended, and what it printed. */
export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

const root = join(__dirname, '..', '..')

/** Runs `body` (JavaScript: the body of an async function) in a child process; resolves when it exits. */
export function runInChild(body: string): Promise<ChildResult> {
  const script =
    `const lib = require(${JSON.stringify(join(root, 'ts', 'index.ts'))})\n` +
    `const fixtures = ${JSON.stringify(profiles)}\n` +
    `;(async () => {\n${body}\n})().catch((error) => { console.error('child failed:', error); process.exitCode = 2 })\n`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** A child process started by {@link startChild}, for a test that acts while it runs (sends it a signal). */
export interface RunningChild {
  /** The child's process id. */
  pid: number
  /** Resolves once the child has printed a line holding `text` on stdout; rejects if it ends first. */
  printed(text: string): Promise<void>
  /** Sends the child a signal. */
  kill(signal: NodeJS.Signals): void
  /** How the child ended. */
  result: Promise<ChildResult>
}

/**
 * Starts `body` (TypeScript: the body of an async function) in a child process, as
 * {@link runInChild} does, but from a `.ts` file, so that tsx compiles it (`await using` works),
 * and without waiting for it to end. A child still running after `timeoutMs` (scaled by
 * SCOUTER_TEST_SLOWDOWN) is killed with
 * SIGKILL, so a hang fails the test (`signal: 'SIGKILL'`) instead of stalling it.
 */
export function startChild(body: string, { timeoutMs = 60_000 }: { timeoutMs?: number } = {}): RunningChild {
  const file = join(mkdtempSync(join(tmpdir(), 'scouter-queue-child-')), 'child.ts')
  writeFileSync(
    file,
    `const lib = require(${JSON.stringify(join(root, 'ts', 'index.ts'))})\n` +
      `const fixtures = ${JSON.stringify(profiles)}\n` +
      `;(async () => {\n${body}\n})().catch((error) => { console.error('child failed:', error); process.exitCode = 2 })\n`,
  )
  const child = spawn(process.execPath, ['--import=tsx', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiting: Array<{ text: string; resolve: () => void }> = []
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (stdout.includes(waiting[i]!.text)) waiting.splice(i, 1)[0]!.resolve()
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const killer = setTimeout(() => child.kill('SIGKILL'), scaled(timeoutMs))
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return {
    pid: child.pid!,
    printed: (text) =>
      stdout.includes(text)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiting.push({ text, resolve })),
            result.then((ended) => {
              throw new Error(`the child ended (${ended.code ?? ended.signal}) before printing ${JSON.stringify(text)}:\n${ended.stdout}\n${ended.stderr}`)
            }),
          ]),
    kill: (signal) => child.kill(signal),
    result,
  }
}
