/**
 * A property test of the spool across process lifetimes (fast-check): each life opens the queues
 * on the same `spoolDir` with a transport that works or refuses everything, inserts records,
 * and ends after a random moment (a shutdown with a deadline of 0 to 20 ms, which leaves what is
 * unconfirmed on disk); some lives then end in a crash that tore their last write at a random
 * byte. A last, healthy life delivers the rest. Whatever the history: no process delivers a
 * document twice, every document is delivered at least once except a torn one, each torn write
 * is reported exactly once, and the accounting balances in every life.
 */
import { truncateSync } from 'node:fs'

import test from 'ava'
import fc from 'fast-check'

import { LLMRecord, MockConfig, ScouterQueue, type QueueStats, type ScouterQueueError } from '../ts/index'
import { profiles, tempDir } from './helpers/fixtures'
import { diskUsage, frames, nOf, segments } from './helpers/spool'

interface Life {
  inserts: number
  failing: boolean
  deadlineMs: number
  /** Where in its last frame the crash tore the newest segment (0 = at its start: nothing torn). */
  tear: number | null
}

const life: fc.Arbitrary<Life> = fc.record({
  inserts: fc.integer({ min: 0, max: 40 }),
  failing: fc.boolean(),
  deadlineMs: fc.integer({ min: 0, max: 20 }),
  tear: fc.option(fc.double({ min: 0, max: 0.999, noNaN: true }), { nil: null }),
})

const balanced = (s: QueueStats): boolean => s.inserted === s.sampledOut + s.dropped + s.pending + s.published + s.failed

/** Runs one life; returns what it delivered, its errors and final stats. */
async function live(spoolDir: string, plan: Life, firstN: number, deadlineMs: number) {
  const mock = new MockConfig({ maxRetries: 0 })
  if (plan.failing) mock.failNext(1e9)
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ llm: profiles.llm }, mock, { spoolDir, onError: (error) => errors.push(error) })
  for (let n = firstN; n < firstN + plan.inserts; n++) queues.get('llm').insert(new LLMRecord({ context: { n } }))
  const stats = (await queues.shutdown(deadlineMs)).llm!
  return { delivered: mock.rawDocuments().map(nOf), errors, stats }
}

/**
 * A crash during the last write of the newest segment: only `tear` of its frame reached the file.
 * Returns the document of that write (lost, unless it had been delivered) and whether a torn
 * frame is left to report (none when not a byte of it was written).
 */
function crash(spoolDir: string, tear: number): { n: number; reported: boolean } | null {
  const files = segments(spoolDir)
  const newest = files[files.length - 1]
  if (newest === undefined) return null
  const all = frames(newest)
  const last = all[all.length - 1]
  if (last === undefined) return null
  const at = last.start + Math.floor(tear * (last.end - last.start))
  truncateSync(newest, at)
  return { n: last.n, reported: at > last.start }
}

test('the spool loses nothing acknowledged or not, and delivers nothing twice in one process, whatever the crashes', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(life, { minLength: 1, maxLength: 4 }), async (lives) => {
      const spoolDir = tempDir()
      const deliveredEver = new Set<number>()
      const torn = new Set<number>()
      let expectedReports = 0
      let next = 0
      const plans = [...lives, { inserts: 0, failing: false, deadlineMs: 30_000, tear: null }]
      for (const [index, plan] of plans.entries()) {
        const { delivered, errors, stats } = await live(spoolDir, plan, next, plan.deadlineMs)
        next += plan.inserts
        if (new Set(delivered).size !== delivered.length) throw new Error(`life ${index} delivered a document twice: ${delivered}`)
        for (const n of delivered) deliveredEver.add(n)
        const spoolErrors = errors.filter((e) => e.code === 'SCOUTER_SPOOL')
        if (spoolErrors.length !== expectedReports) {
          throw new Error(`life ${index}: ${spoolErrors.length} spool reports, expected ${expectedReports}: ${spoolErrors.map((e) => e.message)}`)
        }
        if (!balanced(stats) || stats.failed !== 0 || stats.dropped !== 0) throw new Error(`life ${index}: ${JSON.stringify(stats)}`)
        expectedReports = 0
        if (plan.tear !== null) {
          const lost = crash(spoolDir, plan.tear)
          if (lost !== null) {
            torn.add(lost.n)
            expectedReports = lost.reported ? 1 : 0
          }
        }
      }
      for (let n = 0; n < next; n++) {
        if (!deliveredEver.has(n) && !torn.has(n)) throw new Error(`document ${n} was lost`)
      }
      if (diskUsage(spoolDir) !== 0) throw new Error('the last, healthy life left documents on disk')
    }),
    { numRuns: 300 },
  )
  t.pass()
})
