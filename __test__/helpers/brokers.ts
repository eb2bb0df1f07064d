/**
 * Real-broker helpers for the transport suites: unique topic/queue/channel names, consumers
 * that collect documents (kafkajs, amqplib, node-redis), restarting a broker through
 * `scripts/services.sh`, and one known set of items per drift kind with its exact expected
 * records, so that every transport is checked against the same numbers.
 */
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'

import type { ExecutionContext } from 'ava'

import { EvalRecord, Feature, Features, LLMRecord, Metrics, type ScouterQueue, type ServerRecords, type UidServerRecords } from '../../ts/index'
import { profiles, psiCounts, recordsOf, uidProfiles } from './fixtures'

const services = join(__dirname, '..', '..', 'scripts', 'services.sh')

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`
}

/** Stops and starts a broker, waiting until it accepts connections again. */
export function restartBroker(name: 'kafka' | 'rabbitmq' | 'redis'): void {
  execFileSync('bash', [services, 'restart', name], { stdio: ['ignore', 'ignore', 'inherit'] })
}

/** Stops a broker (`scripts/services.sh down NAME`). */
export function stopBroker(name: 'kafka' | 'rabbitmq' | 'redis'): void {
  execFileSync('bash', [services, 'down', name], { stdio: ['ignore', 'ignore', 'inherit'] })
}

/** Starts a broker and waits until it accepts connections (`scripts/services.sh up NAME`). */
export function startBroker(name: 'kafka' | 'rabbitmq' | 'redis'): void {
  execFileSync('bash', [services, 'up', name], { stdio: ['ignore', 'ignore', 'inherit'] })
}

/** Runs a Kafka command-line class (e.g. the console consumer) from the broker's libraries. */
export function kafkaClass(args: string[], timeoutMs = 60_000): string {
  return execFileSync('bash', [services, 'kafka-class', ...args], { encoding: 'utf8', timeout: timeoutMs })
}

/** Polls `done` until it holds or `timeoutMs` passes. */
export async function waitFor(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now()
  while (!done()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * The queues of the known set: the four v0.9 fixtures, and two 0.25 queues beside them (Custom as
 * `custom25`, GenAI eval as `genai`), so that every transport carries both formats.
 */
export const knownSetProfiles = { ...profiles, custom25: uidProfiles.custom, genai: uidProfiles.genai }

/** The built records of the known set, so their uids can be checked. */
export interface KnownSet {
  llm: LLMRecord
  eval: EvalRecord
}

/**
 * Inserts the same items through the known-set queues (`knownSetProfiles`):
 * PSI feature_0 0.5, 1.5, 1.5, 9.5 and color red, blue; SPC feature_0 1, 2, 6 with feature_1
 * -1 x3; Custom (both formats) mae 1, 2 and mape 4; one LLM record; one eval record.
 */
export function insertKnownSet(queues: ScouterQueue<keyof typeof knownSetProfiles>): KnownSet {
  const psi = queues.get('psi')
  for (const value of [0.5, 1.5, 1.5, 9.5]) psi.insert(new Features([Feature.float('feature_0', value)]))
  psi.insert(Features.fromObject({ color: 'red' }))
  psi.insert(Features.fromObject({ color: 'blue' }))
  for (const value of [1, 2, 6]) queues.get('spc').insert(Features.fromObject({ feature_0: value, feature_1: -1 }))
  for (const alias of ['custom', 'custom25'] as const) {
    queues.get(alias).insert(Metrics.fromObject({ mae: 1, mape: 4 }))
    queues.get(alias).insert(Metrics.fromObject({ mae: 2 }))
  }
  const llm = new LLMRecord({ context: { input: 'known', response: 'set' } })
  queues.get('llm').insert(llm)
  const evalRecord = new EvalRecord({ context: { input: 'known', score: 0.5 }, id: 'known-1', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }).addTag('env', 'test')
  queues.get('genai').insert(evalRecord)
  return { llm, eval: evalRecord }
}

/** How many documents the known set publishes: one per queue. */
export const KNOWN_SET_DOCUMENTS = 6

/** Whether a document is in the 0.25 format (its records carry the profile's uid). */
function isUidDocument(doc: ServerRecords | UidServerRecords): doc is UidServerRecords {
  const record = doc.records[0]!
  return 'GenAIEval' in record || 'uid' in Object.values(record)[0]!
}

/** Asserts that `all` are exactly what the known set publishes. */
export function assertKnownSet(t: ExecutionContext, all: Array<ServerRecords | UidServerRecords>, known: KnownSet): void {
  const documents = all.filter((doc): doc is ServerRecords => !isUidDocument(doc))
  const uidDocuments = all.filter(isUidDocument)
  t.is(uidDocuments.length, 2, 'one 0.25 document per 0.25 queue')
  assertUidKnownSet(t, uidDocuments, known)
  const ofKind = (kind: string) => documents.filter((doc) => kind in doc.records[0]!)
  t.is(all.length, KNOWN_SET_DOCUMENTS, 'one document per queue')
  for (const doc of all) {
    t.is(new Set(doc.records.map((r) => Object.keys(r)[0])).size, 1, 'one kind per document')
  }
  const bins = (feature: string, ids: number[], counts: Record<number, number>) =>
    Object.fromEntries(ids.map((id) => [`${feature}:${id}`, counts[id] ?? 0]))
  t.deepEqual(psiCounts(ofKind('Psi')), {
    ...bins('feature_0', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { 1: 1, 2: 2, 10: 1 }),
    ...bins('color', [0, 1, 2], { 0: 1, 2: 1 }),
  })
  t.deepEqual(
    recordsOf(ofKind('Spc')).map((r) => ('Spc' in r ? [r.Spc.name, r.Spc.feature, r.Spc.value] : null)),
    [
      ['spc_model', 'feature_0', 3],
      ['spc_model', 'feature_1', -1],
    ],
  )
  t.deepEqual(
    recordsOf(ofKind('Custom')).map((r) => ('Custom' in r ? [r.Custom.metric, r.Custom.value] : null)),
    [
      ['mae', 1.5],
      ['mape', 4],
    ],
  )
  const llm = recordsOf(ofKind('LLMDrift'))
  t.is(llm.length, 1)
  const record = llm[0]
  t.true(record !== undefined && 'LLMDrift' in record && record.LLMDrift.record.uid === known.llm.uid)
}

/** The 0.25 part of the known set: its Custom means with the profile's uid, its eval record. */
function assertUidKnownSet(t: ExecutionContext, documents: UidServerRecords[], known: KnownSet): void {
  const records = documents.flatMap((doc) => doc.records)
  const custom = records.flatMap((r) => ('Custom' in r ? [r.Custom] : []))
  t.deepEqual(
    custom.map(({ created_at: _, ...rest }) => rest),
    [
      { uid: '0197f3a0-0000-7000-8000-000000000003', metric: 'mae', value: 1.5, entity_id: 0 },
      { uid: '0197f3a0-0000-7000-8000-000000000003', metric: 'mape', value: 4, entity_id: 0 },
    ],
  )
  const evals = records.flatMap((r) => ('GenAIEval' in r ? [r.GenAIEval.record] : []))
  t.deepEqual(evals, [
    {
      record_id: 'known-1',
      session_id: known.eval.sessionId,
      created_at: known.eval.createdAt,
      uid: known.eval.uid,
      context: { input: 'known', score: 0.5 },
      id: 0,
      updated_at: null,
      processing_started_at: null,
      processing_ended_at: null,
      processing_duration: null,
      entity_id: 0,
      entity_uid: '0197f3a0-0000-7000-8000-000000000004',
      status: 'Pending',
      entity_type: 'GenAI',
      retry_count: 0,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      tags: ['env=test'],
    },
  ])
}

/** Asserts the accounting after the known set was flushed: everything published, nothing else. */
export function assertKnownStats(t: ExecutionContext, stats: Awaited<ReturnType<ScouterQueue['flush']>>): void {
  t.like(stats.psi, { inserted: 6, published: 6, pending: 0, failed: 0, records: 13, documents: 1 })
  t.like(stats.spc, { inserted: 3, published: 3, pending: 0, failed: 0, records: 2, documents: 1 })
  t.like(stats.custom, { inserted: 2, published: 2, pending: 0, failed: 0, records: 2, documents: 1 })
  t.like(stats.llm, { inserted: 1, published: 1, pending: 0, failed: 0, records: 1, documents: 1 })
  t.like(stats.custom25, { inserted: 2, published: 2, pending: 0, failed: 0, records: 2, documents: 1 })
  t.like(stats.genai, { inserted: 1, published: 1, pending: 0, failed: 0, records: 1, documents: 1 })
}

/** The 0.25 known set: the four 0.25 fixtures, for transports that take only 0.25 documents (gRPC). */
export const uidKnownSetProfiles = uidProfiles

/** The eval record of the 0.25 known set. */
export interface UidKnownSet {
  eval: EvalRecord
}

/**
 * The known set's items through the four 0.25 fixture queues (`uidKnownSetProfiles`): the same
 * PSI, SPC and Custom inputs as `insertKnownSet`, and one eval record.
 */
export function insertUidKnownSet(queues: ScouterQueue<keyof typeof uidKnownSetProfiles>): UidKnownSet {
  const psi = queues.get('psi', 'psi')
  for (const value of [0.5, 1.5, 1.5, 9.5]) psi.insert(new Features([Feature.float('feature_0', value)]))
  psi.insert(Features.fromObject({ color: 'red' }))
  psi.insert(Features.fromObject({ color: 'blue' }))
  for (const value of [1, 2, 6]) queues.get('spc', 'spc').insert(Features.fromObject({ feature_0: value, feature_1: -1 }))
  queues.get('custom', 'custom').insert(Metrics.fromObject({ mae: 1, mape: 4 }))
  queues.get('custom', 'custom').insert(Metrics.fromObject({ mae: 2 }))
  const evalRecord = new EvalRecord({ context: { input: 'known', score: 0.5 }, id: 'known-1', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }).addTag('env', 'test')
  queues.get('genai', 'genai').insert(evalRecord)
  return { eval: evalRecord }
}

/** Asserts that `documents` are exactly what the 0.25 known set publishes, one per queue. */
export function assertUidKnownSetDocuments(t: ExecutionContext, documents: UidServerRecords[], known: UidKnownSet): void {
  t.is(documents.length, 4, 'one document per queue')
  t.true(documents.every(isUidDocument), 'every document in the 0.25 format')
  const records = documents.flatMap((doc) => doc.records)
  const counts: Record<string, number> = {}
  for (const r of records) if ('Psi' in r) counts[`${r.Psi.feature}:${r.Psi.bin_id}`] = r.Psi.bin_count
  const bins = (feature: string, ids: number[], of: Record<number, number>) => Object.fromEntries(ids.map((id) => [`${feature}:${id}`, of[id] ?? 0]))
  t.deepEqual(counts, {
    ...bins('feature_0', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { 1: 1, 2: 2, 10: 1 }),
    ...bins('color', [0, 1, 2], { 0: 1, 2: 1 }),
  })
  t.true(records.every((r) => !('Psi' in r) || r.Psi.uid === '0197f3a0-0000-7000-8000-000000000002'))
  t.deepEqual(
    records.flatMap((r) => ('Spc' in r ? [[r.Spc.uid, r.Spc.feature, r.Spc.value]] : [])),
    [
      ['0197f3a0-0000-7000-8000-000000000001', 'feature_0', 3],
      ['0197f3a0-0000-7000-8000-000000000001', 'feature_1', -1],
    ],
  )
  assertUidKnownSet(t, documents.filter((doc) => 'Custom' in doc.records[0]! || 'GenAIEval' in doc.records[0]!), { ...known, llm: undefined as never })
}

/** Asserts the accounting after the 0.25 known set was flushed. */
export function assertUidKnownStats(t: ExecutionContext, stats: Awaited<ReturnType<ScouterQueue['flush']>>): void {
  t.like(stats.psi, { inserted: 6, published: 6, pending: 0, failed: 0, records: 13, documents: 1 })
  t.like(stats.spc, { inserted: 3, published: 3, pending: 0, failed: 0, records: 2, documents: 1 })
  t.like(stats.custom, { inserted: 2, published: 2, pending: 0, failed: 0, records: 2, documents: 1 })
  t.like(stats.genai, { inserted: 1, published: 1, pending: 0, failed: 0, records: 1, documents: 1 })
}
