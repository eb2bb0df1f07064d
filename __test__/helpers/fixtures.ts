/** Paths to the fixture profiles, and edited copies of them for tests that need a variation. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { ServerRecord, ServerRecords } from '../../ts/index'

const dir = join(__dirname, '..', 'fixtures')

/** The four full-fidelity fixture profiles written by scouter-ml 0.9.0. */
export const profiles = {
  spc: join(dir, 'spc_profile.json'),
  psi: join(dir, 'psi_profile.json'),
  custom: join(dir, 'custom_profile.json'),
  llm: join(dir, 'llm_profile.json'),
} as const

/** The four fixture profiles written by scouter-ml 0.25.0 (the 0.25 wire format). */
export const uidProfiles = {
  spc: join(dir, 'v0_25', 'spc_profile.json'),
  psi: join(dir, 'v0_25', 'psi_profile.json'),
  custom: join(dir, 'v0_25', 'custom_profile.json'),
  genai: join(dir, 'v0_25', 'genai_eval_profile.json'),
} as const

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'scouter-queue-test-'))
}

/** Writes a copy of a fixture with `edit` applied to its JSON; returns the path. */
export function editedProfile(kind: keyof typeof profiles, edit: (profile: any) => void): string {
  const profile = JSON.parse(readFileSync(profiles[kind], 'utf8'))
  edit(profile)
  const path = join(tempDir(), `${kind}_edited.json`)
  writeFileSync(path, JSON.stringify(profile))
  return path
}

/** Writes `text` as a profile file; returns the path. */
export function rawProfile(text: string): string {
  const path = join(tempDir(), 'raw_profile.json')
  writeFileSync(path, text)
  return path
}

/** All records of some documents, in order. */
export function recordsOf(documents: ServerRecords[]): ServerRecord[] {
  return documents.flatMap((doc) => doc.records)
}

/** PSI records as `feature:bin_id -> bin_count`, summed over documents. */
export function psiCounts(documents: ServerRecords[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const record of recordsOf(documents)) {
    if (!('Psi' in record)) throw new Error(`not a PSI record: ${JSON.stringify(record)}`)
    const key = `${record.Psi.feature}:${record.Psi.bin_id}`
    counts[key] = (counts[key] ?? 0) + record.Psi.bin_count
  }
  return counts
}

/** A promise and the function that resolves it, for waiting on callbacks. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** The value of the first Custom record of each document, in order. */
export function customValues(documents: ServerRecords[]): Array<number | null> {
  return documents.map((doc) => {
    const first = doc.records[0]
    return first !== undefined && 'Custom' in first ? first.Custom.value : null
  })
}
