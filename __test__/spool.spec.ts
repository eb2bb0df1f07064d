/**
 * The write-ahead disk spool (`spoolDir`) with real processes: a child that spools documents a
 * server refuses is killed with SIGKILL, and a new process on the same directory delivers them;
 * a torn tail is cut off and reported once; a full spool drops its oldest documents, counted
 * exactly, within `spoolMaxBytes`; a second live process is refused. Every document is one LLM
 * record whose context carries a sequence number `n`, so losses and duplicates are countable.
 */
import { spawn } from 'node:child_process'
import { truncateSync } from 'node:fs'
import { join } from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { ConfigError, HttpConfig, LLMRecord, MockConfig, ScouterQueue, SpoolError, type ScouterQueueError } from '../ts/index'
import { profiles, tempDir } from './helpers/fixtures'
import { ScouterTestServer } from './helpers/scouter-server'
import { scaled } from './helpers/slowdown'
import { diskUsage, frames, nOf, segments } from './helpers/spool'

const root = join(__dirname, '..')

async function started(t: ExecutionContext): Promise<ScouterTestServer> {
  const server = await ScouterTestServer.start()
  t.teardown(() => server.close())
  return server
}

/** The `n` of every document a server stored, in order. */
const delivered = (server: ScouterTestServer): number[] => server.rawDocuments().map(nOf)

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b)

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

/**
 * Starts a child that inserts records `0..count` into an LLM queue spooling to `spoolDir`, with
 * an HTTP transport to `serverUri`, and prints its stats as JSON lines; resolves with the child
 * once a printed line satisfies `ready`, then kills it with SIGKILL.
 */
function spoolInChildThenKill(serverUri: string, spoolDir: string, count: number, ready: (stats: { spooledDocuments: number }) => boolean): Promise<string> {
  const script = `
    const lib = require(${JSON.stringify(join(root, 'ts', 'index.ts'))})
    ;(async () => {
      const queues = await lib.ScouterQueue.fromPath({ llm: ${JSON.stringify(profiles.llm)} },
        new lib.HttpConfig({ serverUri: ${JSON.stringify(serverUri)}, timeoutMs: ${scaled(1000)}, maxRetries: 0 }),
        { spoolDir: ${JSON.stringify(spoolDir)}, spoolSync: 'never', onError: () => {} })
      for (let n = 0; n < ${count}; n++) queues.get('llm').insert(new lib.LLMRecord({ context: { n } }))
      setInterval(() => console.log(JSON.stringify(queues.stats().llm)), 20)
    })()`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let buffered = ''
    let stderr = ''
    let last = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        last = line
        if (ready(JSON.parse(line))) child.kill('SIGKILL')
      }
    })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(last)
      else reject(new Error(`the child ended with ${code ?? signal} before it was killed: ${stderr}`))
    })
  })
}

/** Opens the spool directory again with a healthy server and shuts down; returns the stats and errors. */
async function replay(server: ScouterTestServer, spoolDir: string) {
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, new HttpConfig({ serverUri: server.uri, timeoutMs: scaled(2000) }), {
    spoolDir,
    onError: (error) => errors.push(error),
  })
  const found = queues.stats().llm!.spooledDocuments
  const stats = (await queues.shutdown(scaled(30_000))).llm!
  return { found, stats, errors }
}

test('documents spooled by a process killed with SIGKILL are all delivered by the next one', async (t) => {
  const refusing = await started(t)
  for (let i = 0; i < 20_000; i++) refusing.failNext({ status: 503 })
  const spoolDir = tempDir()
  const count = 300
  const last = await spoolInChildThenKill(refusing.uri, spoolDir, count, (s) => s.spooledDocuments === count)
  t.is(JSON.parse(last).spooledDocuments, count)
  t.deepEqual(delivered(refusing), [], 'the refusing server stored nothing')

  const healthy = await started(t)
  const { found, stats, errors } = await replay(healthy, spoolDir)
  t.is(found, count, 'every spooled document was found')
  t.deepEqual(errors, [])
  // Handed over in order; the server stores them as their (overlapping) requests complete.
  t.deepEqual(sorted(delivered(healthy)), range(0, count), 'each delivered once')
  t.is(stats.replayedDocuments, count)
  t.is(stats.spooledDocuments, 0)
  t.is(stats.inserted, 0, 'replayed documents are not items of this process')
  t.is(diskUsage(spoolDir), 0, 'acknowledged segments are deleted')
})

test('a segment cut mid-record by a crash: everything before it is delivered, the torn record reported once', async (t) => {
  const refusing = await started(t)
  for (let i = 0; i < 20_000; i++) refusing.failNext({ status: 503 })
  const spoolDir = tempDir()
  const count = 120
  await spoolInChildThenKill(refusing.uri, spoolDir, count, (s) => s.spooledDocuments === count)
  const files = segments(spoolDir)
  const newest = files[files.length - 1]!
  const inNewest = frames(newest)
  const torn = inNewest[inNewest.length - 1]!
  t.is(torn.n, count - 1, 'the last frame of the newest segment is the last document made')
  // The crash cut the last write in its middle.
  truncateSync(newest, torn.start + Math.floor((torn.end - torn.start) / 2))

  const healthy = await started(t)
  const { found, stats, errors } = await replay(healthy, spoolDir)
  t.is(found, count - 1)
  t.deepEqual(sorted(delivered(healthy)), range(0, count - 1))
  t.is(stats.replayedDocuments, count - 1)
  t.is(errors.length, 1, errors.map((e) => e.message).join('\n'))
  t.is(errors[0]!.code, 'SCOUTER_SPOOL')
  t.true(errors[0] instanceof SpoolError)
  t.regex(errors[0]!.message, /cut short at byte \d+ .*the \d+ documents before it are kept/)
})

test('a full spool drops its oldest documents, counted exactly, and never passes spoolMaxBytes', async (t) => {
  // A transport that takes a minute per document: the first 64 (maxInFlight) are in flight for
  // the whole test, everything after waits on disk until the spool fills.
  const mock = new MockConfig({ maxRetries: 0 })
  mock.setLatencyMs(60_000)
  const spoolDir = tempDir()
  const spoolMaxBytes = 65_536
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock, {
    spoolDir,
    spoolMaxBytes,
    onError: (error) => errors.push(error),
  })
  const queue = queues.get('llm')
  const count = 3000
  let peak = 0
  for (let n = 0; n < count; n++) {
    queue.insert(new LLMRecord({ context: { n } }))
    if (n % 50 === 49) {
      await new Promise((resolve) => setTimeout(resolve, 5))
      peak = Math.max(peak, diskUsage(spoolDir))
    }
  }
  // Until the event loop has made every record a document (on disk) or dropped it.
  let full = queue.stats()
  for (let waited = 0; full.spooledDocuments !== full.pending && waited < scaled(20_000); waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    peak = Math.max(peak, diskUsage(spoolDir))
    full = queue.stats()
  }
  t.is(full.inserted, count)
  t.true(full.dropped > 0)
  t.is(full.dropped + full.pending, count, 'nothing failed: dropped or waiting on disk')
  t.is(full.spooledDocuments, full.pending)
  t.true(peak <= spoolMaxBytes, `the spool took ${peak} bytes`)
  t.is(errors.filter((e) => e.code === 'SCOUTER_SPOOL' && /spool is full/.test(e.message)).length, 1, 'reported once per run of drops')

  // A shutdown that cannot wait leaves everything on disk; a healthy process delivers it.
  const stopped = (await queues.shutdown(100)).llm!
  t.is(stopped.pending, count - full.dropped, 'in flight or on disk, all still pending')
  t.is(stopped.dropped, full.dropped)
  const healthy = new MockConfig()
  const next = await ScouterQueue.fromPath({ llm: profiles.llm }, healthy, { spoolDir, spoolMaxBytes })
  const stats = (await next.shutdown(scaled(30_000))).llm!
  const kept = healthy.rawDocuments().map(nOf)
  // The documents in flight are never dropped (they may be confirmed any moment); of the others,
  // the oldest went.
  t.deepEqual(sorted(kept), [...range(0, 64), ...range(64 + full.dropped, count)])
  t.is(stats.replayedDocuments, count - full.dropped)
  t.is(diskUsage(spoolDir), 0)
})

test('a second live process on the same spoolDir gets a ConfigError, and the directory is free after shutdown', async (t) => {
  const spoolDir = tempDir()
  // The holder takes the lock, says so, and shuts down when its stdin closes.
  const script = `
    const lib = require(${JSON.stringify(join(root, 'ts', 'index.ts'))})
    ;(async () => {
      const queues = await lib.ScouterQueue.fromPath({ llm: ${JSON.stringify(profiles.llm)} }, new lib.MockConfig(), { spoolDir: ${JSON.stringify(spoolDir)} })
      console.log('locked')
      process.stdin.resume().on('end', () => queues.shutdown().then(() => console.log('released')))
    })()`
  const holder = spawn(process.execPath, ['--import=tsx', '-e', script], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] })
  let output = ''
  const said = (word: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (output.includes(word) ? resolve() : undefined)
      holder.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk
        check()
      })
      holder.on('close', () => reject(new Error(`the holder ended before saying '${word}': ${output}`)))
      check()
    })
  await said('locked')
  const refused = await t.throwsAsync(ScouterQueue.fromPath({ llm: profiles.llm }, new MockConfig(), { spoolDir }), { instanceOf: ConfigError })
  t.regex(refused!.message, new RegExp(`already in use by another live ScouterQueue \\(process ${holder.pid}\\)`))
  holder.stdin.end()
  await said('released')
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, new MockConfig(), { spoolDir })
  await queues.shutdown()
  t.pass()
})

test('spool options are checked', async (t) => {
  const open = (options: object) => ScouterQueue.fromPath({ llm: profiles.llm }, new MockConfig(), options)
  await t.throwsAsync(open({ spoolDir: tempDir(), spoolSync: 'sometimes' }), { instanceOf: ConfigError, message: /option `spoolSync` must be one of interval, always, never, got "sometimes"/ })
  await t.throwsAsync(open({ spoolDir: tempDir(), spoolSync: 1 }), { instanceOf: TypeError, message: /spoolSync must be 'interval', 'always' or 'never'/ })
  await t.throwsAsync(open({ spoolDir: 42 }), { instanceOf: TypeError, message: /spoolDir must be a non-empty string or file: URL/ })
  await t.throwsAsync(open({ spoolDir: '' }), { instanceOf: TypeError })
  await t.throwsAsync(open({ spoolDir: tempDir(), spoolMaxBytes: 1000 }), { instanceOf: ConfigError, message: /spoolMaxBytes.*from 65536/ })
  await t.throwsAsync(open({ spoolDir: tempDir(), spoolMaxBytes: Number.NaN }), { instanceOf: ConfigError })
  await t.throwsAsync(open({ spoolDir: tempDir(), spoolMaxBytes: '1e9' }), { instanceOf: TypeError })
  await t.throwsAsync(open({ spoolMaxBytes: 1e9 }), { instanceOf: ConfigError, message: /need `spoolDir`/ })
  await t.throwsAsync(open({ spoolDir: '/proc/version/spool' }), { instanceOf: ConfigError, message: /spoolDir/ })
})

test('with a failover list, the spool sits after the whole chain: what every transport fails waits on disk, then goes to the first that recovers', async (t) => {
  const primary = new MockConfig({ maxRetries: 0 })
  const secondary = new MockConfig({ maxRetries: 0 })
  primary.setFailing(true)
  secondary.setFailing(true)
  const spoolDir = tempDir()
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, [primary, secondary], {
    spoolDir,
    failureThreshold: 1,
    probeIntervalMs: scaled(60_000),
    onError: () => {},
  })
  const queue = queues.get('llm')
  for (let n = 0; n < 20; n++) queue.insert(new LLMRecord({ context: { n } }))
  let stats = queue.stats()
  for (let waited = 0; stats.spooledItems < 20 && waited < scaled(10_000); waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    stats = queue.stats()
  }
  t.like(stats, { inserted: 20, pending: 20, spooledItems: 20, spooledDocuments: 20, failed: 0, dropped: 0 })
  t.true(stats.transports.every((transport) => transport.failed > 0), 'both transports failed documents')

  // The secondary recovers; the primary stays down (its breaker open, its probe a minute away).
  secondary.setFailing(false)
  const final = (await queues.shutdown(scaled(30_000))).llm!
  t.like(final, { published: 20, failed: 0, pending: 0, spooledDocuments: 0 })
  t.deepEqual(sorted(secondary.rawDocuments().map(nOf)), range(0, 20))
  t.deepEqual(primary.rawDocuments(), [])
  t.is(final.transports[1]!.published, 20)
  t.is(final.transports[0]!.published, 0)
  t.is(diskUsage(spoolDir), 0)
})
