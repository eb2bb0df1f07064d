/**
 * The real Python Scouter clients, driven by `__test__/python/run_client.py` from the virtual
 * environments that `scripts/python-clients.sh` installs (`.venv/scouter-<version>`).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scaled } from './slowdown'

const root = join(__dirname, '..', '..')
const driver = join(__dirname, '..', 'python', 'run_client.py')

/** The two releases the differential test runs: the v0.9 wire format, and the current one. */
export type PythonClientVersion = '0.9.0' | '0.25.0'

/** A number, or a stand-in for what JSON cannot carry. */
export type SpecNumber = number | 'NaN' | 'Infinity' | '-Infinity'

/** One feature of a row: `type` picks the builder (`auto` is `Feature(name, value)`, which infers). */
export interface FeatureSpec {
  name: string
  type: 'int' | 'float' | 'string' | 'categorical' | 'auto'
  value: SpecNumber | string
}

/** The GenAI record of 0.25: what `EvalRecord(...)` and `add_tag` are given. Absent = the default. */
export interface EvalSpec {
  context: Record<string, unknown>
  id?: string
  session_id?: string
  trace_id?: string
  tags?: Array<[string, string]>
}

/** One `insert` into the queue of `alias`. */
export type InsertSpec =
  | { alias: string; features: FeatureSpec[] }
  | { alias: string; metrics: Array<{ name: string; value: SpecNumber }> }
  | { alias: string; llm: { context: Record<string, unknown>; prompt?: unknown } }
  | { alias: string; eval: EvalSpec }

export type TransportSpec =
  | { kind: 'http'; server_uri: string; username: string; password: string }
  | { kind: 'redis'; address: string; channel: string }

/** One ScouterQueue of the Python client: its profiles, its transport, and what is inserted, in order. */
export interface RunSpec {
  name: string
  transport: TransportSpec
  profiles: Record<string, string>
  inserts: InsertSpec[]
}

export interface RunResult {
  name: string
  inserts: number
  start_s: number
  insert_s: number
  shutdown_s: number
}

/** Where the interpreter of `version` is; throws, saying how to install it, when it is missing. */
export function pythonOf(version: PythonClientVersion): string {
  const python = join(root, '.venv', `scouter-${version}`, 'bin', 'python')
  if (!existsSync(python)) {
    throw new Error(`scouter-ml ${version} is not installed (${python} is missing): run bash scripts/python-clients.sh`)
  }
  return python
}

/**
 * Runs `runs` through the real client of `version`, in one Python process, one after the other,
 * each ending with `shutdown()`. Asynchronous on purpose: the in-process test server must keep
 * answering while Python runs. Rejects with Python's output when it fails.
 */
export async function runPythonClient(
  version: PythonClientVersion,
  runs: RunSpec[],
  timeoutMs = scaled(120_000),
): Promise<{ version: string; runs: RunResult[]; seconds: number }> {
  const python = pythonOf(version)
  const dir = mkdtempSync(join(tmpdir(), `scouter-python-${version}-`))
  const specPath = join(dir, 'spec.json')
  const resultPath = join(dir, 'result.json')
  writeFileSync(specPath, JSON.stringify({ runs }))
  const began = performance.now()
  await new Promise<void>((resolve, reject) => {
    // The extension's logs go to stdout and stderr: the result goes to its own file.
    execFile(
      python,
      [driver, specPath, resultPath],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (error, stdout, stderr) => {
        if (error === null) return resolve()
        const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n')
        reject(new Error(`scouter-ml ${version} driver failed (${error.message.split('\n')[0]}):\n${output}`))
      },
    )
  })
  const seconds = (performance.now() - began) / 1000
  const result = JSON.parse(readFileSync(resultPath, 'utf8')) as { version: string; runs: RunResult[] }
  if (result.version !== version) throw new Error(`.venv/scouter-${version} holds scouter-ml ${result.version}`)
  return { ...result, seconds }
}
