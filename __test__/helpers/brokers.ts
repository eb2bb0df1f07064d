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

import { Feature, Features, LLMRecord, Metrics, type ScouterQueue, type ServerRecords } from '../../ts/index'
import { psiCounts, recordsOf } from './fixtures'

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

/** The LLM record of the known set, so its uid can be checked. */
export interface KnownSet {
  llm: LLMRecord
}

/**
 * Inserts the same items through all four fixture queues:
 * PSI feature_0 0.5, 1.5, 1.5, 9.5 and color red, blue; SPC feature_0 1, 2, 6 with feature_1
 * -1 x3; Custom mae 1, 2 and mape 4; one LLM record.
 */
export function insertKnownSet(queues: ScouterQueue): KnownSet {
  const psi = queues.get('psi')
  for (const value of [0.5, 1.5, 1.5, 9.5]) psi.insert(new Features([Feature.float('feature_0', value)]))
  psi.insert(Features.fromObject({ color: 'red' }))
  psi.insert(Features.fromObject({ color: 'blue' }))
  for (const value of [1, 2, 6]) queues.get('spc').insert(Features.fromObject({ feature_0: value, feature_1: -1 }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 1, mape: 4 }))
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const llm = new LLMRecord({ context: { input: 'known', response: 'set' } })
  queues.get('llm').insert(llm)
  return { llm }
}

/** How many documents the known set publishes: one per queue. */
export const KNOWN_SET_DOCUMENTS = 4

/** Asserts that `documents` are exactly what the known set publishes. */
export function assertKnownSet(t: ExecutionContext, documents: ServerRecords[], known: KnownSet): void {
  const ofKind = (kind: string) => documents.filter((doc) => kind in doc.records[0]!)
  t.is(documents.length, KNOWN_SET_DOCUMENTS, 'one document per queue')
  for (const doc of documents) {
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

/** Asserts the accounting after the known set was flushed: everything published, nothing else. */
export function assertKnownStats(t: ExecutionContext, stats: Awaited<ReturnType<ScouterQueue['flush']>>): void {
  t.like(stats.psi, { inserted: 6, published: 6, pending: 0, failed: 0, records: 13, documents: 1 })
  t.like(stats.spc, { inserted: 3, published: 3, pending: 0, failed: 0, records: 2, documents: 1 })
  t.like(stats.custom, { inserted: 2, published: 2, pending: 0, failed: 0, records: 2, documents: 1 })
  t.like(stats.llm, { inserted: 1, published: 1, pending: 0, failed: 0, records: 1, documents: 1 })
}
