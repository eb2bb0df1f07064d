/**
 * The examples run as a user would run them: the Express and Fastify services answer requests,
 * shut down on SIGTERM with everything published, and the worker-threads example publishes from
 * two workers. Exact records are read back from the File transport.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'

import type { ServerRecords } from '../ts/index'
import { psiCounts, tempDir } from './helpers/fixtures'

const root = join(__dirname, '..')

/** Starts `script` with `env`; resolves with the child and the port it printed. */
function startService(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, [join(root, script)], { cwd: root, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${output}`)), 20_000)
    child.stdout!.on('data', () => {
      const match = /listening on (\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ child, port: Number(match[1]), output: () => output })
      }
    })
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)))
  })
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

function documents(path: string): ServerRecords[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as ServerRecords)
}

/** Sends the same 12 requests to a service: 10 rows, a body that is not an object, an empty object. */
async function predict(port: number): Promise<number[]> {
  const statuses: number[] = []
  const bodies: unknown[] = [
    ...Array.from({ length: 10 }, (_, i) => ({ feature_0: i + 0.5, color: i % 2 === 0 ? 'red' : 'blue' })),
    [1, 2],
    {},
  ]
  for (const body of bodies) {
    const response = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    statuses.push(response.status)
    await response.arrayBuffer()
  }
  return statuses
}

const EXPECTED_COUNTS = {
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`feature_0:${i + 1}`, 1])),
  'color:0': 5,
  'color:1': 0,
  'color:2': 5,
}

for (const [name, script, exit] of [
  ['Express', 'examples/express/server.js', { code: null, signal: 'SIGTERM' }],
  ['Fastify', 'examples/fastify/server.js', { code: 0, signal: null }],
] as const) {
  test(`${name} example: each request is one row, SIGTERM publishes them all`, async (t) => {
    const path = join(tempDir(), 'records.jsonl')
    const { child, port, output } = await startService(script, { SCOUTER_FILE_PATH: path })
    t.deepEqual(await predict(port), [...Array(10).fill(200), 400, 200])
    const done = exited(child)
    child.kill('SIGTERM')
    t.like(await done, exit, output())
    // The v0.9 PSI fixture: feature_0 bins (-inf,1] (1,2] ... (9,inf]; color red 0, green 1, blue 2.
    t.deepEqual(psiCounts(documents(path)), EXPECTED_COUNTS)
  })
}

test('worker-threads example: two workers publish their own rows', async (t) => {
  const out = tempDir()
  const child = spawn(process.execPath, [join(root, 'examples/worker-threads/main.js'), '2', '5000'], { cwd: root, env: { ...process.env, OUT_DIR: out }, stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  t.is((await exited(child)).code, 0)
  const results = stdout.trim().split('\n').map((line) => JSON.parse(line) as { worker: number; path: string; inserted: number; published: number; failed: number })
  t.deepEqual(results.map(({ path: _, ...rest }) => rest), [
    { worker: 0, inserted: 5000, published: 5000, failed: 0 },
    { worker: 1, inserted: 5000, published: 5000, failed: 0 },
  ])
  for (const { path } of results) {
    const docs = documents(path)
    t.is(docs.length, 5, '1000 rows per PSI document')
    t.deepEqual(psiCounts(docs), Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`feature_0:${i + 1}`, 500])))
  }
})
