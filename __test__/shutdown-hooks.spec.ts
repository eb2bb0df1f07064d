/**
 * Lifecycle helpers: `installShutdownHooks()` (signals, `beforeExit`, removal), `await using`
 * (`Symbol.asyncDispose`), and the warning of a process that exits with items pending. What
 * happens at a signal or at exit is tested in real child processes; the records they leave in a
 * File transport's file are checked exactly.
 */
import test from 'ava'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { Features, MockConfig, QueueClosedError, ScouterQueue, type ServerRecords } from '../ts/index'
import { pendingAtExitMessage } from '../ts/pending-at-exit'
import type { QueueStats } from '../ts/stats'
import { startChild, type ChildResult } from './helpers/child'
import { profiles, tempDir } from './helpers/fixtures'
import { nOf } from './helpers/spool'

// Fixture SPC profile: sample_size 25, monitored feature_0, feature_1, color.
const SAMPLE_SIZE = 25

const readLines = (path: string): ServerRecords[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as ServerRecords)
    : []

/** `[feature, mean]` of every SPC record of the file, in order. */
function spcMeans(path: string): Array<[string, number]> {
  return readLines(path).flatMap((doc) =>
    doc.records.map((record): [string, number] => {
      if (!('Spc' in record)) throw new Error(`not an SPC record: ${JSON.stringify(record)}`)
      return [record.Spc.feature, record.Spc.value]
    }),
  )
}

/**
 * The SPC records of rows `i = 0 .. rows - 1` inserted as `{ feature_0: i, feature_1: -i }`: per
 * chunk of 25 rows (the last one shorter), the mean of each feature, which is (first + last) / 2.
 */
function expectedMeans(rows: number): Array<[string, number]> {
  const means: Array<[string, number]> = []
  for (let first = 0; first < rows; first += SAMPLE_SIZE) {
    const mean = (first + Math.min(first + SAMPLE_SIZE, rows) - 1) / 2
    means.push(['feature_0', mean], ['feature_1', -mean])
  }
  return means
}

/** The child's lines that carry a given warning code. */
const warningLines = (child: ChildResult, code: string) => child.stderr.split('\n').filter((line) => line.includes(`[${code}]`))

/** The body of a child that opens an SPC queue on a File transport at `path`. */
const openSpc = (path: string) => `
  const queues = await lib.ScouterQueue.fromPath({ spc: fixtures.spc }, new lib.FileConfig({ path: ${JSON.stringify(path)} }))
  const spc = queues.get('spc')
  const row = (i) => lib.Features.fromObject({ feature_0: i, feature_1: -i })
`

const counts = () =>
  ['SIGTERM', 'SIGINT', 'SIGHUP', 'beforeExit', 'exit'].map((event) => process.listenerCount(event))

test('SIGTERM mid-stream: every row inserted reaches the file, then the process ends by SIGTERM', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  // A service inserting 100,000 rows, yielding to the event loop between batches of 500 (and
  // pacing itself after the marker, so that the signal lands while it is still inserting). A
  // signal's listeners run between batches, never inside one, so the last count the child
  // printed is exactly what it inserted: once the hook has started the shutdown, the next batch
  // (if it runs before the process ends) inserts nothing and says so.
  const child = startChild(`
    ${openSpc(path)}
    queues.installShutdownHooks()
    setInterval(() => {}, 60_000) // a service's event loop stays busy until it is told to stop
    let inserted = 0
    const batch = () => {
      try {
        for (let i = 0; i < 500 && inserted < 100_000; i++) {
          spc.insert(row(inserted))
          inserted++
        }
      } catch (error) {
        if (!(error instanceof lib.QueueClosedError)) throw error
        console.log('closed after ' + inserted)
        return
      }
      console.log('inserted ' + inserted)
      if (inserted === 10_000) console.log('mid-stream')
      if (inserted < 10_000) setImmediate(batch)
      else if (inserted < 100_000) setTimeout(batch, 1)
    }
    batch()
  `)
  await child.printed('mid-stream')
  child.kill('SIGTERM')
  const result = await child.result
  t.is(result.signal, 'SIGTERM', result.stderr)
  t.is(result.code, null)
  const progress = [...result.stdout.matchAll(/^inserted (\d+)$/gm)].map((match) => Number(match[1]))
  const rows = progress[progress.length - 1]!
  t.deepEqual(progress, Array.from({ length: rows / 500 }, (_, i) => (i + 1) * 500), result.stdout)
  const closed = /^closed after (\d+)$/m.exec(result.stdout)
  if (closed) t.is(Number(closed[1]), rows)
  t.true(rows >= 10_000 && rows <= 100_000)
  t.log(rows < 100_000 ? `the signal landed after ${rows} rows, while inserting` : 'the signal landed after the last insert')
  t.is(readLines(path).length, Math.ceil(rows / SAMPLE_SIZE), 'one document per chunk of 25 rows, the last one shorter')
  t.deepEqual(spcMeans(path), expectedMeans(rows))
  t.deepEqual(warningLines(result, 'SCOUTER_PENDING_AT_EXIT'), [])
})

test('100,000 rows inserted at once, then SIGTERM: all of them reach the file and the process ends by SIGTERM', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  const child = startChild(`
    ${openSpc(path)}
    queues.installShutdownHooks()
    setInterval(() => {}, 60_000)
    for (let i = 0; i < 100_000; i++) spc.insert(row(i))
    console.log('inserted')
  `)
  await child.printed('inserted')
  child.kill('SIGTERM')
  const result = await child.result
  t.is(result.signal, 'SIGTERM', result.stderr)
  t.is(readLines(path).length, 4000)
  t.deepEqual(spcMeans(path), expectedMeans(100_000))
})

test("SIGTERM with the application's own listener: both run, the hook does not kill, the application exits", async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  // The hook is installed first, so its listener runs first and starts the shutdown; the
  // application's listener then finds the queues closed and waits for that same shutdown.
  const child = startChild(`
    ${openSpc(path)}
    queues.installShutdownHooks()
    process.on('SIGTERM', async () => {
      let closed = false
      try {
        spc.insert(row(0))
      } catch (error) {
        closed = error instanceof lib.QueueClosedError
      }
      console.log('app listener: shutdown started ' + closed)
      const { inserted, published, pending } = (await queues.flush()).spc
      console.log('app listener: after shutdown ' + JSON.stringify({ inserted, published, pending }) + ', SIGTERM listeners ' + process.listenerCount('SIGTERM'))
      process.exit(0)
    })
    setInterval(() => {}, 60_000)
    for (let i = 0; i < 1000; i++) spc.insert(row(i))
    console.log('ready')
  `)
  await child.printed('ready')
  child.kill('SIGTERM')
  const result = await child.result
  t.is(result.signal, null, result.stderr)
  t.is(result.code, 0)
  t.deepEqual(result.stdout.trim().split('\n'), [
    'ready',
    'app listener: shutdown started true',
    'app listener: after shutdown {"inserted":1000,"published":1000,"pending":0}, SIGTERM listeners 1',
  ])
  t.deepEqual(spcMeans(path), expectedMeans(1000))
  t.deepEqual(warningLines(result, 'SCOUTER_PENDING_AT_EXIT'), [])
})

test('a second signal while the hook shuts down starts nothing more; the process ends by the first', async (t) => {
  // A slow transport keeps the shutdown running while more signals arrive. `shutdown` is wrapped
  // to count the calls the hook makes and to print the final accounting just before the end.
  const child = startChild(`
    const mock = new lib.MockConfig()
    mock.setLatencyMs(1000)
    const queues = await lib.ScouterQueue.fromPath({ custom: fixtures.custom }, mock)
    queues.installShutdownHooks()
    const shutdown = queues.shutdown.bind(queues)
    let calls = 0
    queues.shutdown = (timeoutMs) => {
      console.log('shutdown call ' + ++calls)
      return shutdown(timeoutMs).then((stats) => {
        const { inserted, published, pending } = stats.custom
        console.log('settled ' + JSON.stringify({ inserted, published, pending }) + ', documents ' + mock.documents().length)
        return stats
      })
    }
    setInterval(() => {}, 60_000)
    for (let i = 0; i < 10; i++) queues.get('custom').insert(lib.Metrics.fromObject({ mae: i }))
    console.log('ready')
  `)
  await child.printed('ready')
  child.kill('SIGTERM')
  await child.printed('shutdown call 1')
  child.kill('SIGTERM')
  child.kill('SIGINT')
  const result = await child.result
  t.is(result.signal, 'SIGTERM', result.stderr)
  t.deepEqual(result.stdout.trim().split('\n'), [
    'ready',
    'shutdown call 1',
    'settled {"inserted":10,"published":10,"pending":0}, documents 1',
  ])
})

test('two instances hooked: SIGTERM shuts both down, and the last one to settle ends the process', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  // The File instance settles at once; its hook sees the slow instance's listener and leaves the
  // signal to it. The slow one prints its accounting as it settles, just before the end.
  const child = startChild(`
    ${openSpc(path)}
    queues.installShutdownHooks()
    const mock = new lib.MockConfig()
    mock.setLatencyMs(800)
    const slow = await lib.ScouterQueue.fromPath({ custom: fixtures.custom }, mock)
    slow.installShutdownHooks()
    const shutdown = slow.shutdown.bind(slow)
    slow.shutdown = (timeoutMs) =>
      shutdown(timeoutMs).then((stats) => {
        const { inserted, published, pending } = stats.custom
        console.log('slow settled ' + JSON.stringify({ inserted, published, pending }) + ', fast closed ' + (spc.stats().pending === 0) + ', SIGTERM listeners ' + process.listenerCount('SIGTERM'))
        return stats
      })
    setInterval(() => {}, 60_000)
    for (let i = 0; i < 100; i++) spc.insert(row(i))
    for (let i = 0; i < 10; i++) slow.get('custom').insert(lib.Metrics.fromObject({ mae: i }))
    console.log('ready')
  `)
  await child.printed('ready')
  child.kill('SIGTERM')
  const result = await child.result
  t.is(result.signal, 'SIGTERM', result.stderr)
  t.deepEqual(result.stdout.trim().split('\n'), [
    'ready',
    // Each instance's hooks are removed as its shutdown settles, so none is left here; the slow
    // instance's hook then finds no listener of SIGTERM and raises it again.
    'slow settled {"inserted":10,"published":10,"pending":0}, fast closed true, SIGTERM listeners 0',
  ])
  t.deepEqual(spcMeans(path), expectedMeans(100))
})

test('a shutdown that never settles: the signal ends the process after the deadline and a grace second', async (t) => {
  // A \`shutdown\` that never settles stands in for a transport that hangs on close: the hook
  // calls the instance's \`shutdown\`.
  const child = startChild(`
    ${openSpc(join(tempDir(), 'records.jsonl'))}
    queues.installShutdownHooks({ timeoutMs: 200 })
    queues.shutdown = () => new Promise(() => {})
    setInterval(() => {}, 60_000)
    console.log('ready')
  `)
  await child.printed('ready')
  const started = Date.now()
  child.kill('SIGINT')
  const result = await child.result
  t.is(result.signal, 'SIGINT', result.stderr)
  t.true(Date.now() - started >= 1200)
  t.deepEqual(warningLines(result, 'SCOUTER_SHUTDOWN_TIMEOUT'), [
    `(node:${child.pid}) [SCOUTER_SHUTDOWN_TIMEOUT] Warning: scouter-queue: the shutdown started by SIGINT did not settle within 1200 ms; the process ends without waiting for it`,
  ])
})

test('beforeExit: a script that returns without shutdown() delivers everything, then exits normally', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  const child = startChild(`
    ${openSpc(path)}
    queues.installShutdownHooks()
    let beforeExit = 0
    process.on('beforeExit', () => beforeExit++)
    process.on('exit', (code) => {
      const { inserted, published, pending } = spc.stats()
      console.log('exit ' + code + ', beforeExit ' + beforeExit + ' times, ' + JSON.stringify({ inserted, published, pending }))
      console.log('listeners left: beforeExit ' + process.listenerCount('beforeExit') + ', SIGTERM ' + process.listenerCount('SIGTERM') + ', SIGINT ' + process.listenerCount('SIGINT'))
    })
    for (let i = 0; i < 1234; i++) spc.insert(row(i))
  `)
  const result = await child.result
  t.is(result.code, 0, result.stderr)
  t.is(result.signal, null)
  // The first 'beforeExit' starts the shutdown; the second, once it settled, lets the process exit.
  t.deepEqual(result.stdout.trim().split('\n'), [
    'exit 0, beforeExit 2 times, {"inserted":1234,"published":1234,"pending":0}',
    'listeners left: beforeExit 1, SIGTERM 0, SIGINT 0',
  ])
  t.is(readLines(path).length, 50)
  t.deepEqual(spcMeans(path), expectedMeans(1234))
  t.deepEqual(warningLines(result, 'SCOUTER_PENDING_AT_EXIT'), [])
})

test('without hooks: a script that returns exits on its own, with one warning naming every pending item', async (t) => {
  const dir = tempDir()
  // Two instances: 12 SPC rows and 7 Custom metric sets, all below sample_size, so all pending.
  const child = startChild(
    `
    process.on('warning', (warning) => console.log('warning event ' + warning.code))
    const spcQueues = await lib.ScouterQueue.fromPath({ spc: fixtures.spc }, new lib.FileConfig({ path: ${JSON.stringify(join(dir, 'spc.jsonl'))} }))
    const customQueues = await lib.ScouterQueue.fromPath({ custom: fixtures.custom }, new lib.FileConfig({ path: ${JSON.stringify(join(dir, 'custom.jsonl'))} }))
    for (let i = 0; i < 12; i++) spcQueues.get('spc').insert(lib.Features.fromObject({ feature_0: i }))
    for (let i = 0; i < 7; i++) customQueues.get('custom').insert(lib.Metrics.fromObject({ mae: i }))
    console.log('returned')
  `,
    { timeoutMs: 20_000 },
  )
  const result = await child.result
  t.is(result.signal, null, 'the child had to be killed: something kept it alive')
  t.is(result.code, 0, result.stderr)
  t.deepEqual(result.stdout.trim().split('\n'), ['returned', 'warning event SCOUTER_PENDING_AT_EXIT'])
  t.deepEqual(warningLines(result, 'SCOUTER_PENDING_AT_EXIT'), [
    `(node:${child.pid}) [SCOUTER_PENDING_AT_EXIT] Warning: scouter-queue: the process is exiting with 19 items not yet published (call shutdown(), or installShutdownHooks()); they are lost`,
  ])
  t.deepEqual(readLines(join(dir, 'spc.jsonl')), [])
})

test('process.exit() skips beforeExit: with hooks installed, the exit warning still names what is lost', async (t) => {
  const child = startChild(`
    ${openSpc(join(tempDir(), 'records.jsonl'))}
    queues.installShutdownHooks()
    spc.insert(row(1))
    process.exit(4)
  `)
  const result = await child.result
  t.is(result.code, 4, result.stderr)
  t.deepEqual(warningLines(result, 'SCOUTER_PENDING_AT_EXIT'), [
    `(node:${child.pid}) [SCOUTER_PENDING_AT_EXIT] Warning: scouter-queue: the process is exiting with 1 item not yet published (call shutdown(), or installShutdownHooks()); they are lost`,
  ])
})

test('without hooks, after shutdown() (or with nothing pending) the process exits without a warning', async (t) => {
  const dir = tempDir()
  const child = startChild(`
    const shut = await lib.ScouterQueue.fromPath({ spc: fixtures.spc }, new lib.FileConfig({ path: ${JSON.stringify(join(dir, 'a.jsonl'))} }))
    for (let i = 0; i < 12; i++) shut.get('spc').insert(lib.Features.fromObject({ feature_0: i }))
    await shut.shutdown()
    const idle = await lib.ScouterQueue.fromPath({ spc: fixtures.spc }, new lib.FileConfig({ path: ${JSON.stringify(join(dir, 'b.jsonl'))} }))
    console.log('idle ' + idle.aliases)
  `)
  const result = await child.result
  t.is(result.code, 0, result.stderr)
  t.is(result.stdout.trim(), 'idle spc')
  t.deepEqual(warningLines(result, 'SCOUTER_PENDING_AT_EXIT'), [])
  t.is(readLines(join(dir, 'a.jsonl')).length, 1)
})

test('await using shuts the queues down when the block is left, normally or by an exception', async (t) => {
  const dir = tempDir()
  const child = startChild(`
    let kept
    {
      await using queues = await lib.ScouterQueue.fromPath({ spc: fixtures.spc }, new lib.FileConfig({ path: ${JSON.stringify(join(dir, 'a.jsonl'))} }))
      for (let i = 0; i < 30; i++) queues.get('spc').insert(lib.Features.fromObject({ feature_0: i }))
      kept = queues
    }
    const { inserted, published, pending } = kept.stats().spc
    console.log('after the block ' + JSON.stringify({ inserted, published, pending }))
    try {
      kept.get('spc').insert(lib.Features.fromObject({ feature_0: 1 }))
    } catch (error) {
      console.log('insert afterwards: ' + error.name)
    }
    try {
      await using queues = await lib.ScouterQueue.fromPath({ spc: fixtures.spc }, new lib.FileConfig({ path: ${JSON.stringify(join(dir, 'b.jsonl'))} }))
      kept = queues
      queues.get('spc').insert(lib.Features.fromObject({ feature_0: 5 }))
      throw new Error('boom')
    } catch (error) {
      console.log('caught ' + error.message + ', pending ' + kept.stats().spc.pending + ', published ' + kept.stats().spc.published)
    }
  `)
  const result = await child.result
  t.is(result.code, 0, result.stderr)
  t.deepEqual(result.stdout.trim().split('\n'), [
    'after the block {"inserted":30,"published":30,"pending":0}',
    'insert afterwards: QueueClosedError',
    'caught boom, pending 0, published 1',
  ])
  t.is(readLines(join(dir, 'a.jsonl')).length, 2, '25 + 5 rows')
  t.is(readLines(join(dir, 'b.jsonl')).length, 1)
  t.deepEqual(warningLines(result, 'SCOUTER_PENDING_AT_EXIT'), [])
})

test('the remover: after it, a signal has its default effect (no shutdown) and none of our listeners remain', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  const child = startChild(`
    ${openSpc(path)}
    const listeners = () => ['SIGTERM', 'SIGINT', 'SIGHUP', 'beforeExit'].map((event) => process.listenerCount(event)).join(' ')
    const remove = queues.installShutdownHooks({ signals: ['SIGTERM', 'SIGINT', 'SIGHUP'] })
    const removeOther = queues.installShutdownHooks()
    console.log('installed: ' + listeners())
    console.log('remover returns ' + remove())
    remove()
    console.log('one removed: ' + listeners())
    removeOther()
    console.log('both removed: ' + listeners())
    setInterval(() => {}, 60_000)
    for (let i = 0; i < 10; i++) spc.insert(row(i))
    console.log('ready')
  `)
  await child.printed('ready')
  child.kill('SIGTERM')
  const result = await child.result
  t.is(result.signal, 'SIGTERM', result.stderr)
  t.deepEqual(result.stdout.trim().split('\n'), [
    'installed: 2 2 1 2',
    'remover returns undefined',
    'one removed: 1 1 0 1',
    'both removed: 0 0 0 0',
    'ready',
  ])
  t.deepEqual(readLines(path), [], 'nothing was flushed: the 10 rows (below sample_size) were never published')
})

test.serial('installShutdownHooks checks its options before installing anything', async (t) => {
  const queues = await ScouterQueue.fromPath({ spc: profiles.spc }, new MockConfig())
  const before = counts()
  const refuse = (options: unknown, instanceOf: typeof TypeError | typeof RangeError, message: string) =>
    t.throws(() => queues.installShutdownHooks(options as any), { instanceOf, message })
  refuse(null, TypeError, 'installShutdownHooks: options must be a plain object, got null')
  refuse('SIGTERM', TypeError, 'installShutdownHooks: options must be a plain object, got the string "SIGTERM"')
  refuse({ signals: 'SIGTERM' }, TypeError, `installShutdownHooks: signals must be an array of signal names such as ['SIGTERM', 'SIGINT'], got the string "SIGTERM"`)
  refuse({ signals: [15] }, TypeError, 'installShutdownHooks: signals must hold signal names (strings), got 15')
  refuse({ signals: ['SIGTERM', 'SIGTREM'] }, RangeError, 'installShutdownHooks: "SIGTREM" is not a signal of this platform (linux)')
  refuse({ signals: ['toString'] }, RangeError, 'installShutdownHooks: "toString" is not a signal of this platform (linux)')
  refuse({ signals: ['SIGKILL'] }, RangeError, 'installShutdownHooks: SIGKILL cannot be caught, so it cannot be hooked')
  refuse({ signals: ['SIGSTOP'] }, RangeError, 'installShutdownHooks: SIGSTOP cannot be caught, so it cannot be hooked')
  refuse({ timeoutMs: '5' }, TypeError, 'installShutdownHooks: timeoutMs must be a number, got the string "5"')
  refuse({ timeoutMs: null }, TypeError, 'installShutdownHooks: timeoutMs must be a number, got null')
  for (const timeoutMs of [-1, NaN, Infinity, 2 ** 31]) {
    refuse({ timeoutMs }, RangeError, `installShutdownHooks: timeoutMs must be a number of milliseconds from 0 to 2147483647, got ${timeoutMs}`)
  }
  t.deepEqual(counts(), before, 'a refused call installs nothing')

  // Accepted: the bounds, an empty list (only beforeExit), repeated signals (listened to once).
  const removers = [
    queues.installShutdownHooks({ timeoutMs: 0 }),
    queues.installShutdownHooks({ timeoutMs: 2_147_483_647, signals: [] }),
    queues.installShutdownHooks({ signals: ['SIGHUP', 'SIGHUP'] }),
    queues.installShutdownHooks({}),
  ]
  const [term, int, hup, beforeExit, exit] = before as [number, number, number, number, number]
  t.deepEqual(counts(), [term + 2, int + 2, hup + 1, beforeExit + 4, exit])
  for (const remove of removers) remove()
  t.deepEqual(counts(), before)
  await queues.shutdown()
})

test.serial('no listener piles up: 20 instances opened, hooked and shut down leave every count as it was', async (t) => {
  const warnings: Error[] = []
  const onWarning = (warning: Error) => warnings.push(warning)
  process.on('warning', onWarning)
  const before = counts()
  const [term, int, hup, beforeExit, exit] = before as [number, number, number, number, number]
  for (let cycle = 0; cycle < 20; cycle++) {
    const queues = await ScouterQueue.fromPath({ spc: profiles.spc }, new MockConfig())
    queues.installShutdownHooks()
    queues.installShutdownHooks({ signals: ['SIGHUP'] })
    queues.get('spc').insert(Features.fromObject({ feature_0: cycle }))
    t.deepEqual(counts(), [term + 1, int + 1, hup + 1, beforeExit + 2, exit + 1], `cycle ${cycle}`)
    t.like((await queues.shutdown()).spc, { inserted: 1, published: 1, pending: 0 })
    t.deepEqual(counts(), before, `cycle ${cycle}: the shutdown removed the hooks and the exit listener`)
  }

  // Open at the same time: one 'exit' listener serves them all.
  const open = await Promise.all(Array.from({ length: 20 }, () => ScouterQueue.fromPath({ spc: profiles.spc }, new MockConfig())))
  t.is(process.listenerCount('exit'), exit + 1)
  await Promise.all(open.map((queues) => queues.shutdown()))
  t.deepEqual(counts(), before)

  // Once shut down, there is nothing to protect: installing adds nothing.
  const remove = open[0]!.installShutdownHooks()
  t.deepEqual(counts(), before)
  remove()
  await new Promise((resolve) => setImmediate(resolve))
  process.off('warning', onWarning)
  t.deepEqual(
    warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning' || ((warning as { code?: string }).code ?? '').startsWith('SCOUTER_')),
    [],
  )
})

test.serial('[Symbol.asyncDispose]() shuts down; calling it again is harmless', async (t) => {
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ spc: profiles.spc }, mock)
  t.is(typeof queues[Symbol.asyncDispose], 'function')
  queues.get('spc').insert(Features.fromObject({ feature_0: 3 }))
  t.is(await queues[Symbol.asyncDispose](), undefined)
  t.like(queues.stats().spc, { inserted: 1, published: 1, pending: 0 })
  t.is(mock.documents().length, 1)
  t.throws(() => queues.get('spc').insert(Features.fromObject({ feature_0: 3 })), { instanceOf: QueueClosedError })
  await queues[Symbol.asyncDispose]()
  t.is(mock.documents().length, 1)
})

test('the exit warning counts pending items over every queue, and is silent when none is pending', (t) => {
  const stats = (pending: number, spooledItems = 0) => ({ pending, spooledItems }) as QueueStats
  t.is(pendingAtExitMessage([]), undefined)
  t.is(pendingAtExitMessage([stats(0), stats(0)]), undefined)
  t.is(
    pendingAtExitMessage([stats(1)]),
    'scouter-queue: the process is exiting with 1 item not yet published (call shutdown(), or installShutdownHooks()); they are lost',
  )
  t.is(
    pendingAtExitMessage([stats(5), stats(0), stats(7)]),
    'scouter-queue: the process is exiting with 12 items not yet published (call shutdown(), or installShutdownHooks()); they are lost',
  )
  // With a spool, items whose documents are on disk are not lost: the next process delivers them.
  t.is(
    pendingAtExitMessage([stats(5, 3), stats(7, 7)]),
    'scouter-queue: the process is exiting with 2 items not yet published (call shutdown(), or installShutdownHooks()); they are lost; 10 items more wait in the spool for the next process on the same spoolDir to deliver them',
  )
  t.is(
    pendingAtExitMessage([stats(4, 4)]),
    'scouter-queue: the process is exiting with 4 items not yet published (call shutdown(), or installShutdownHooks()); they wait in the spool for the next process on the same spoolDir to deliver them',
  )
})

test('with a spool, a script that returns while the transport refuses everything says its items wait on disk', async (t) => {
  const spoolDir = tempDir()
  const child = startChild(
    `
    const mock = new lib.MockConfig({ maxRetries: 0 })
    mock.failNext(1e9)
    const queues = await lib.ScouterQueue.fromPath({ llm: fixtures.llm }, mock, { spoolDir: ${JSON.stringify(spoolDir)}, onError: () => {} })
    for (let n = 0; n < 5; n++) queues.get('llm').insert(new lib.LLMRecord({ context: { n } }))
    // Until the five documents are on disk.
    while (queues.stats().llm.spooledItems < 5) await new Promise((resolve) => setTimeout(resolve, 10))
    console.log('returned')
  `,
    { timeoutMs: 20_000 },
  )
  const result = await child.result
  t.is(result.code, 0, result.stderr)
  t.deepEqual(warningLines(result, 'SCOUTER_PENDING_AT_EXIT'), [
    `(node:${child.pid}) [SCOUTER_PENDING_AT_EXIT] Warning: scouter-queue: the process is exiting with 5 items not yet published (call shutdown(), or installShutdownHooks()); they wait in the spool for the next process on the same spoolDir to deliver them`,
  ])
  // And they are there: a new process delivers all five.
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock, { spoolDir })
  const stats = (await queues.shutdown()).llm!
  t.is(stats.replayedDocuments, 5)
  t.deepEqual(mock.rawDocuments().map(nOf).sort(), [0, 1, 2, 3, 4])
})
