/**
 * Reading a spool directory from the outside, as the tests that crash processes need: its
 * segment files, the documents framed in them (the format of src/core/spool/frame.rs), and its
 * size on disk.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const MAGIC = 'SQSPOOL1'
/** Length and CRC32C before each payload; then version, kind, record count and items. */
const FRAME_HEADER = 8
const PAYLOAD_HEADER = 14

/** One framed document: where it starts and ends in its segment, and the `n` of its LLM record. */
export interface Frame {
  start: number
  end: number
  n: number
}

/** The segment files of every queue under `dir`, oldest first, as absolute paths. */
export function segments(dir: string): string[] {
  const found: string[] = []
  for (const queue of readdirSync(dir, { withFileTypes: true })) {
    if (!queue.isDirectory()) continue
    const queueDir = join(dir, queue.name)
    for (const name of readdirSync(queueDir).sort()) {
      if (name.endsWith('.seg')) found.push(join(queueDir, name))
    }
  }
  return found
}

/** The frames of a segment written by a queue of single-record LLM documents whose context is `{ n }`. */
export function frames(segment: string): Frame[] {
  const bytes = readFileSync(segment)
  if (bytes.subarray(0, 8).toString('latin1') !== MAGIC) throw new Error(`${segment} is not a spool segment`)
  const out: Frame[] = []
  let offset = 8
  while (offset + FRAME_HEADER <= bytes.length) {
    const length = bytes.readUInt32LE(offset)
    const end = offset + FRAME_HEADER + length
    if (end > bytes.length) break
    const json = bytes.subarray(offset + FRAME_HEADER + PAYLOAD_HEADER, end).toString('utf8')
    out.push({ start: offset, end, n: nOf(json) })
    offset = end
  }
  return out
}

/** The `n` in the context of a single-record LLM document. */
export function nOf(json: string): number {
  const doc = JSON.parse(json) as { records: Array<{ LLMDrift: { record: { context: { n: number } } } }> }
  return doc.records[0]!.LLMDrift.record.context.n
}

/**
 * Bytes of every file under `dir` but the lock file. A live spool deletes segments meanwhile: a
 * file gone between the listing and its `stat` takes no space.
 */
export function diskUsage(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) total += diskUsage(path)
    else if (entry.name !== 'LOCK') total += statSync(path, { throwIfNoEntry: false })?.size ?? 0
  }
  return total
}
