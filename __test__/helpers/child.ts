/**
 * Runs a TypeScript snippet in a fresh Node process (through tsx), for what must not happen in the
 * test process itself: an exit on an unhandled rejection, or an abort inside the native addon.
 * The snippet gets `lib`, the package's public exports (`ts/index.ts`), and `fixtures`, the paths
 * of the four fixture profiles.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'

import { profiles } from './fixtures'

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
