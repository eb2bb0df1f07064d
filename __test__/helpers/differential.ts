/**
 * The differential test's parts (`__test__/differential.spec.ts`): deterministic inputs, an
 * oracle that computes from the inputs and a profile what every document must hold, our side of
 * a run, and the record-by-record comparison of two clients' documents.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import * as scouterQueue from '../../ts/index'
import { Feature, Features, FileConfig, HttpConfig, LLMRecord, Metric, Metrics, ScouterQueue } from '../../ts/index'
import type { EvalSpec, FeatureSpec, InsertSpec, SpecNumber } from './python-clients'
import { parseJson, type Json, type JsonObject } from './scouter-server'

export type Format = 'v0.9' | 'v0.25'
export type Kind = 'spc' | 'psi' | 'custom' | 'llm' | 'genai'

const fixtures = join(__dirname, '..', 'fixtures')

/** The fixture profiles of each format, as the real packages wrote them. */
export const PROFILES = {
  'v0.9': {
    spc: join(fixtures, 'spc_profile.json'),
    psi: join(fixtures, 'psi_profile.json'),
    custom: join(fixtures, 'custom_profile.json'),
    llm: join(fixtures, 'llm_profile.json'),
  },
  'v0.25': {
    spc: join(fixtures, 'v0_25', 'spc_profile.json'),
    psi: join(fixtures, 'v0_25', 'psi_profile.json'),
    custom: join(fixtures, 'v0_25', 'custom_profile.json'),
    genai: join(fixtures, 'v0_25', 'genai_eval_profile.json'),
  },
} as const

/** The record kind (the key of each element of `records`) of a queue kind, per format. */
export const RECORD_KIND: Record<Format, Partial<Record<Kind, string>>> = {
  'v0.9': { spc: 'Spc', psi: 'Psi', custom: 'Custom', llm: 'LLMDrift' },
  'v0.25': { spc: 'Spc', psi: 'Psi', custom: 'Custom', genai: 'GenAIEval' },
}

// ---------------------------------------------------------------------------------------------
// Inputs. Deterministic, and only what both clients define the same way (see the spec's header).

/** A fixed sequence of pseudo-random numbers in [0, 1) (a 32-bit LCG), the same on every run. */
function sequence(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const COLORS = ['red', 'green', 'blue'] as const

/**
 * SPC rows: every monitored feature in every row (the original's SPC queue fails a batch whose
 * features have different counts), finite values only (it would send a NaN mean), categories
 * through the feature map including one that is not in it (`purple` -> the `missing` code), an
 * unmonitored feature that both ignore, and every builder. `rows` should be a multiple of
 * `sample_size`: the original drops the rest at shutdown.
 */
export function spcInserts(alias: string, rows: number, seed = 1): InsertSpec[] {
  const next = sequence(seed)
  const inserts: InsertSpec[] = []
  for (let i = 0; i < rows; i++) {
    const x = Math.round((5 + 6 * (next() - 0.5)) * 1e6) / 1e6
    const features: FeatureSpec[] = [
      i % 5 === 0 ? { name: 'feature_0', type: 'auto', value: x } : { name: 'feature_0', type: 'float', value: x },
      i % 7 === 0
        ? { name: 'feature_1', type: 'auto', value: i - 30 }
        : { name: 'feature_1', type: 'int', value: Math.floor(next() * 200) - 100 },
      i % 4 === 3
        ? { name: 'color', type: 'categorical', value: 'purple' }
        : { name: 'color', type: i % 2 === 0 ? 'string' : 'auto', value: COLORS[i % 3]! },
    ]
    if (i % 3 === 0) features.push({ name: 'feature_unmonitored', type: 'float', value: next() * 1e6 })
    inserts.push({ alias, features })
  }
  return inserts
}

/**
 * PSI rows: values in every bin, on bin limits (`lower < v <= upper`), huge ones and +infinity
 * (the last bin; -infinity is left out: the original finds no bin for it), ints and floats
 * for a numeric feature, categories as strings, int codes and float codes (truncated), rows
 * lacking a monitored feature, an unmonitored and an unknown feature, and (from row 2000 on)
 * no `color` at all, so the last document has no `color` records. No category outside the
 * bins: the original (both releases) loses the whole batch. NaN and -infinity only with
 * `nonFinite`, for 0.25, which skips every non-finite numeric value (v0.9 loses the batch).
 */
export function psiInserts(alias: string, rows: number, seed = 2, nonFinite = false): InsertSpec[] {
  const next = sequence(seed)
  const inserts: InsertSpec[] = []
  for (let i = 0; i < rows; i++) {
    const features: FeatureSpec[] = []
    if (i % 17 !== 0) {
      let value: SpecNumber = Math.round((next() * 11 - 0.5) * 1000) / 1000
      if (i % 50 === 1) value = Math.floor(i / 50) % 11 // exactly on a bin limit
      if (i === 100) value = 'Infinity'
      if (i === 200) value = 1e300
      if (i === 300) value = -1e300
      if (nonFinite && i === 400) value = 'NaN'
      if (nonFinite && i === 500) value = '-Infinity'
      features.push(
        i % 13 === 0 && typeof value === 'number'
          ? { name: 'feature_0', type: 'int', value: Math.round(value) }
          : { name: 'feature_0', type: 'float', value },
      )
    }
    if (i % 11 !== 0 && i < 2000) {
      const code = Math.floor(next() * 3)
      if (i % 29 === 0) features.push({ name: 'color', type: 'int', value: code })
      else if (i % 31 === 0) features.push({ name: 'color', type: 'float', value: code + 0.75 })
      else features.push({ name: 'color', type: i % 2 === 0 ? 'string' : 'categorical', value: COLORS[code]! })
    }
    if (i % 5 === 0) features.push({ name: 'feature_unmonitored', type: 'float', value: next() * 10 })
    if (i % 97 === 0) features.push({ name: 'not_in_profile', type: 'float', value: 1 })
    inserts.push({ alias, features })
  }
  return inserts
}

/**
 * Custom metrics: `mae` in every set (sometimes spelt `MAE`: both lower-case names), `mape` in
 * three sets of four, ints and floats, and `rmse`, which the profile does not know. Finite only:
 * the original sends a NaN mean as null.
 */
export function customInserts(alias: string, sets: number, seed = 3): InsertSpec[] {
  const next = sequence(seed)
  const inserts: InsertSpec[] = []
  for (let i = 0; i < sets; i++) {
    const metrics: Array<{ name: string; value: SpecNumber }> = [
      { name: i % 6 === 0 ? 'MAE' : 'mae', value: Math.round(next() * 1e7) / 1e3 },
    ]
    if (i % 4 !== 0) metrics.push({ name: 'mape', value: i % 8 === 1 ? 12 + i : next() * 100 })
    if (i % 5 === 0) metrics.push({ name: 'rmse', value: 99 })
    inserts.push({ alias, metrics })
  }
  return inserts
}

/** LLM records (v0.9): varied JSON in the context (each has its own `n`) and prompts. */
export function llmInserts(alias: string, count: number): InsertSpec[] {
  const prompts: unknown[] = [
    undefined,
    { role: 'user', content: 'Rate ${input}', parts: [1, 2.5] },
    'a plain prompt',
    null,
  ]
  return Array.from({ length: count }, (_, n) => {
    const prompt = prompts[n % prompts.length]
    return {
      alias,
      llm: {
        context: llmContext(n),
        ...(prompt === undefined ? {} : { prompt }),
      },
    }
  })
}

function llmContext(n: number): Record<string, unknown> {
  return {
    n,
    input: `question ${n}: héllo ✓ "quoted" \\ back`,
    response: n % 2 === 0 ? `answer ${n}` : '',
    score_hint: n + 0.5,
    big: 2 ** 53 - 1 - n,
    nested: { list: [n, 'two', null, true, { deep: -n }], empty: {} },
  }
}

/** 32 lower-case hex digits, a different one for each `n`. */
export function traceIdOf(n: number): string {
  return Array.from({ length: 4 }, (_, i) =>
    ((Math.imul(n + 1, 2654435761) ^ (i * 0x9e3779b9)) >>> 0).toString(16).padStart(8, '0'),
  ).join('')
}

/**
 * GenAI eval records (0.25): with and without an id, a session id and a trace id (the defaults
 * then apply on both sides), with none, one or two tags (one with `=` in its value).
 */
export function genaiInserts(alias: string, count: number): InsertSpec[] {
  return Array.from({ length: count }, (_, n) => {
    const spec: EvalSpec = { context: llmContext(n) }
    if (n % 3 !== 0) spec.id = `record-${n}`
    if (n % 4 !== 0) spec.session_id = `session-${n % 5}`
    if (n % 5 !== 0) spec.trace_id = traceIdOf(n)
    const tags: Array<[string, string]> = [
      ['scenario', `s${n}`],
      ['env', 'test=1'],
    ]
    if (n % 3 !== 0) spec.tags = tags.slice(0, n % 3)
    return { alias, eval: spec }
  })
}

// ---------------------------------------------------------------------------------------------
// Our side

/** The planned 0.25 builder, read at run time so that this file compiles before it exists. */
interface EvalRecordLike {
  addTag(key: string, value: string): void
}
type EvalRecordConstructor = new (init: {
  context: Record<string, unknown>
  id?: string
  sessionId?: string
  traceId?: string
}) => EvalRecordLike

function evalRecordConstructor(): EvalRecordConstructor {
  const ctor = (scouterQueue as Record<string, unknown>)['EvalRecord']
  if (typeof ctor !== 'function') throw new Error('0.25 support missing: scouter-queue exports no EvalRecord')
  return ctor as EvalRecordConstructor
}

const SPECIAL: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity }

function number(value: SpecNumber): number {
  return typeof value === 'number' ? value : SPECIAL[value]!
}

/** Whether a feature's value is a string to map through the feature map (not a stand-in for a number). */
function isCategory({ type, value }: FeatureSpec): boolean {
  return type === 'string' || type === 'categorical' || (typeof value === 'string' && !(value in SPECIAL))
}

function ourFeature(spec: FeatureSpec): Feature {
  const { name, type, value } = spec
  const v = isCategory(spec) ? value : number(value as SpecNumber)
  switch (type) {
    case 'int':
      return Feature.int(name, v as number)
    case 'float':
      return Feature.float(name, v as number)
    case 'string':
      return Feature.string(name, v as string)
    case 'categorical':
      return Feature.categorical(name, v as string)
    case 'auto':
      return new Feature(name, v)
  }
}

/** The item our API builds for one insert of the spec. */
export function ourItem(insert: InsertSpec): unknown {
  if ('features' in insert) return new Features(insert.features.map(ourFeature))
  if ('metrics' in insert) return new Metrics(insert.metrics.map((m) => new Metric(m.name, number(m.value))))
  if ('llm' in insert) {
    const { context, prompt } = insert.llm
    return new LLMRecord((prompt === undefined ? { context } : { context, prompt }) as never)
  }
  const EvalRecord = evalRecordConstructor()
  const { context, id, session_id: sessionId, trace_id: traceId, tags } = insert.eval
  const record = new EvalRecord({
    context,
    ...(id === undefined ? {} : { id }),
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(traceId === undefined ? {} : { traceId }),
  })
  for (const [key, value] of tags ?? []) record.addTag(key, value)
  return record
}

/**
 * Runs `inserts` through our ScouterQueue over `transport` and shuts it down. All items are
 * built before the first insert, as the Python driver does.
 */
export async function runOurs(
  profiles: Record<string, string>,
  inserts: InsertSpec[],
  transport: FileConfig | HttpConfig,
): Promise<Awaited<ReturnType<ScouterQueue['shutdown']>>> {
  const items = inserts.map((insert) => [insert.alias, ourItem(insert)] as const)
  // A long timer: documents are cut by size and at shutdown only, as in the Python runs.
  const queues = await ScouterQueue.fromPath(profiles, transport, { flushIntervalMs: 600_000 })
  try {
    for (const [alias, item] of items) queues.get(alias).insert(item as Features)
  } catch (error) {
    await queues.shutdown()
    throw error
  }
  return queues.shutdown()
}

/** The documents a File transport wrote, one per line. */
export function fileDocuments(path: string): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  return text.split('\n').filter((line) => line.length > 0)
}

// ---------------------------------------------------------------------------------------------
// The oracle: what each document must hold, computed from the inputs and the profile alone.

/** A record as the oracle sees it: its key within the document and its number (or its inputs). */
export interface Expected {
  key: string
  value?: number
  llm?: { context: Record<string, unknown>; prompt: unknown }
  eval?: EvalSpec
}

interface Profile {
  config: {
    sample_size?: number
    feature_map?: { features?: Record<string, Record<string, number>> }
    alert_config?: { features_to_monitor?: string[] }
  }
  features?: Record<
    string,
    {
      bin_type?: string
      bins: Array<{ id: number; lower_limit: number | string | null; upper_limit: number | string | null }>
    }
  >
  metrics?: Record<string, unknown>
}

function readProfile(path: string): Profile {
  return JSON.parse(readFileSync(path, 'utf8')) as Profile
}

/** A feature value as a number the way both clients read it, or undefined when unusable. */
function numericValue(profile: Profile, f: FeatureSpec): number | undefined {
  if (isCategory(f)) {
    const map = profile.config.feature_map?.features?.[f.name]
    return map?.[f.value as string] ?? map?.['missing']
  }
  return number(f.value as SpecNumber)
}

function limit(l: number | string | null): number {
  if (l === '-inf') return -Infinity
  if (l === 'inf') return Infinity
  return l as number
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * The documents a queue of `kind` publishes for `inserts`, in order, each as its expected
 * records. `partialSpc`: whether the last, short SPC batch is published (ours: yes; the
 * original: no). `skipNonFinitePsi`: whether a PSI numeric feature's non-finite values are left
 * out (the original 0.25: yes).
 */
export function expectedDocuments(
  kind: Kind,
  profilePath: string,
  inserts: InsertSpec[],
  { partialSpc = true, skipNonFinitePsi = false }: { partialSpc?: boolean; skipNonFinitePsi?: boolean } = {},
): Expected[][] {
  const profile = readProfile(profilePath)
  switch (kind) {
    case 'spc': {
      const size = profile.config.sample_size!
      const monitored = profile.config.alert_config!.features_to_monitor!
      const batches = chunks(inserts, size).filter((batch) => partialSpc || batch.length === size)
      return batches.map((batch) =>
        monitored.flatMap((name) => {
          const values = batch.flatMap((insert) =>
            'features' in insert
              ? insert.features.filter((f) => f.name === name).map((f) => numericValue(profile, f)!)
              : [],
          )
          return values.length === 0 ? [] : [{ key: name, value: values.reduce((a, b) => a + b, 0) / values.length }]
        }),
      )
    }
    case 'psi': {
      const monitored = profile.config.alert_config!.features_to_monitor!
      return chunks(inserts, 1000).map((batch) =>
        monitored.flatMap((name) => {
          const feature = profile.features![name]!
          const counts = new Map(feature.bins.map((bin) => [bin.id, 0]))
          for (const insert of batch) {
            if (!('features' in insert)) continue
            for (const f of insert.features.filter((x) => x.name === name)) {
              const v = numericValue(profile, f)!
              // 0.25 skips a non-finite value of a numeric feature; v0.9 bins +inf last (and loses its batch on NaN or -inf).
              if (skipNonFinitePsi && feature.bin_type !== 'Category' && !Number.isFinite(v)) continue
              const id =
                feature.bin_type === 'Category'
                  ? Math.trunc(v)
                  : feature.bins.find((bin) => limit(bin.lower_limit) < v && v <= limit(bin.upper_limit))!.id
              counts.set(id, counts.get(id)! + 1)
            }
          }
          if ([...counts.values()].every((c) => c === 0)) return []
          return [...counts].map(([id, count]) => ({ key: `${name}#${id}`, value: count }))
        }),
      )
    }
    case 'custom': {
      const size = profile.config.sample_size!
      const names = Object.keys(profile.metrics!)
      return chunks(inserts, size).map((batch) =>
        names.flatMap((name) => {
          const values = batch.flatMap((insert) =>
            'metrics' in insert
              ? insert.metrics.filter((m) => m.name.toLowerCase() === name).map((m) => number(m.value))
              : [],
          )
          return values.length === 0 ? [] : [{ key: name, value: values.reduce((a, b) => a + b, 0) / values.length }]
        }),
      )
    }
    case 'llm':
      return inserts.map((insert) => {
        const { context, prompt } = (insert as { llm: { context: Record<string, unknown>; prompt?: unknown } }).llm
        return [{ key: `n=${String(context['n'])}`, llm: { context, prompt: prompt ?? null } }]
      })
    case 'genai':
      return chunks(inserts, 25).map((batch) =>
        batch.map((insert) => {
          const spec = (insert as { eval: EvalSpec }).eval
          return { key: `n=${String(spec.context['n'])}`, eval: spec }
        }),
      )
  }
}

// ---------------------------------------------------------------------------------------------
// Reading documents

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/
const INTEGER = /^-?(0|[1-9]\d*)$/

/** One record of a document, with the source text of its numbers and the order of its fields. */
export interface ReadRecord {
  kind: string
  /** The fields (inside `record` for the wrapped kinds). */
  fields: JsonObject
  /** Field names in the order written. */
  order: string[]
  /** Source text of each top-level number field. */
  lexemes: Record<string, string>
  /** Its key within the document: feature/metric (+ bin id), or `n=<context.n>` for LLM/GenAI. */
  key: string
}

/** Reads one document's text: its records, keyed, with their numbers as written. */
export function readDocument(text: string): ReadRecord[] {
  const { value, numbers } = parseJson(text)
  const records = (value as JsonObject)['records'] as Json[]
  return records.map((element, i) => {
    const [kind] = Object.keys(element as JsonObject) as [string]
    const body = (element as JsonObject)[kind] as JsonObject
    const wrapped = kind === 'LLMDrift' || kind === 'GenAIEval'
    const fields = (wrapped ? body['record'] : body) as JsonObject
    const prefix = `records.${i}.${kind}.${wrapped ? 'record.' : ''}`
    const lexemes: Record<string, string> = {}
    for (const [path, lexeme] of numbers) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes('.'))
        lexemes[path.slice(prefix.length)] = lexeme
    }
    let key: string
    if (wrapped) key = `n=${String((fields['context'] as JsonObject)['n'])}`
    else if (kind === 'Psi') key = `${String(fields['feature'])}#${String(fields['bin_id'])}`
    else key = String(fields['feature'] ?? fields['metric'])
    return { kind, fields, order: Object.keys(fields), lexemes, key }
  })
}

/** Within 1e-9 (absolute: the inputs keep every mean below 1e5, where a double's rounding is far smaller). */
function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v)

// ---------------------------------------------------------------------------------------------
// Comparisons. Each returns a list of differences, empty when none, naming the document, the
// record and the field, so that a failure says exactly what differs.

export interface Identity {
  format: Format
  /** v0.9: space, name, version; 0.25: the profile uid. */
  space?: string
  name?: string
  version?: string
  uid?: string
}

/** The identity fields of a profile: what every record of its documents must carry. */
export function identityOf(format: Format, profilePath: string): Identity {
  const config = (JSON.parse(readFileSync(profilePath, 'utf8')) as { config: Record<string, string> }).config
  return format === 'v0.9'
    ? { format, space: config['space']!, name: config['name']!, version: config['version']! }
    : { format, uid: config['uid']! }
}

/**
 * Checks one client's documents against the oracle: the number of documents, each document's
 * records (as a multiset keyed by feature/metric and bin: the original builds them from hash
 * maps, so their order is not defined), numbers within 1e-9, identity fields, integers written as
 * integers, timestamps and uids by format, and the LLM/GenAI fields.
 */
export function checkAgainstOracle(
  kind: Kind,
  identity: Identity,
  documents: string[],
  expected: Expected[][],
): string[] {
  const diffs: string[] = []
  if (documents.length !== expected.length) diffs.push(`${documents.length} documents, expected ${expected.length}`)
  const recordKind = RECORD_KIND[identity.format][kind]!
  documents.slice(0, expected.length).forEach((text, d) => {
    const records = readDocument(text)
    const want = expected[d]!
    const at = `document ${d}`
    const keys = records.map((r) => r.key).sort()
    const wantKeys = want.map((e) => e.key).sort()
    if (show(keys) !== show(wantKeys)) diffs.push(`${at}: record keys ${show(keys)}, expected ${show(wantKeys)}`)
    for (const record of records) {
      const where = `${at} ${record.kind} ${record.key}`
      if (record.kind !== recordKind) diffs.push(`${where}: kind ${record.kind}, expected ${recordKind}`)
      diffs.push(...checkShape(record, identity, where))
      const e = want.find((x) => x.key === record.key)
      if (e === undefined) continue
      if (e.value !== undefined) {
        const field = kind === 'psi' ? 'bin_count' : 'value'
        const got = record.fields[field]
        if (typeof got !== 'number' || !close(got, e.value))
          diffs.push(`${where}: ${field} ${show(got)}, expected ${e.value}`)
      }
      if (e.llm !== undefined) {
        if (!sameJson(record.fields['context'], e.llm.context))
          diffs.push(`${where}: context ${show(record.fields['context'])}`)
        if (!sameJson(record.fields['prompt'], e.llm.prompt))
          diffs.push(`${where}: prompt ${show(record.fields['prompt'])}, expected ${show(e.llm.prompt)}`)
      }
      if (e.eval !== undefined) {
        const spec = e.eval
        const f = record.fields
        if (!sameJson(f['context'], spec.context)) diffs.push(`${where}: context ${show(f['context'])}`)
        if (f['record_id'] !== (spec.id ?? ''))
          diffs.push(`${where}: record_id ${show(f['record_id'])}, expected ${show(spec.id ?? '')}`)
        if (
          spec.session_id !== undefined ? f['session_id'] !== spec.session_id : !UUID_V7.test(String(f['session_id']))
        )
          diffs.push(`${where}: session_id ${show(f['session_id'])}, expected ${spec.session_id ?? 'a new UUIDv7'}`)
        const trace = spec.trace_id === undefined ? null : spec.trace_id.toLowerCase()
        if (f['trace_id'] !== trace) diffs.push(`${where}: trace_id ${show(f['trace_id'])}, expected ${show(trace)}`)
        const tags = (spec.tags ?? []).map(([k, v]) => `${k}=${v}`)
        if (show(f['tags']) !== show(tags)) diffs.push(`${where}: tags ${show(f['tags'])}, expected ${show(tags)}`)
      }
    }
  })
  return diffs
}

/** The fields every record of its kind carries, whatever the inputs: identity, shapes, constants. */
function checkShape(record: ReadRecord, identity: Identity, where: string): string[] {
  const diffs: string[] = []
  const f = record.fields
  const integer = (field: string): void => {
    const lexeme = record.lexemes[field]
    if (lexeme === undefined || !INTEGER.test(lexeme))
      diffs.push(`${where}: ${field} written as ${lexeme ?? show(f[field])}, not as a JSON integer`)
  }
  const equal = (field: string, want: unknown): void => {
    if (show(f[field]) !== show(want)) diffs.push(`${where}: ${field} ${show(f[field])}, expected ${show(want)}`)
  }
  if (typeof f['created_at'] !== 'string' || !RFC3339_UTC.test(f['created_at']))
    diffs.push(`${where}: created_at ${show(f['created_at'])} is not RFC 3339 UTC`)
  if (identity.format === 'v0.9') {
    equal('space', identity.space)
    equal('name', identity.name)
    equal('version', identity.version)
  } else if (record.kind === 'GenAIEval') {
    equal('entity_uid', identity.uid)
    equal('entity_id', 0)
    integer('entity_id')
  } else {
    equal('uid', identity.uid)
    equal('entity_id', 0)
    integer('entity_id')
  }
  if (record.kind === 'Psi') {
    integer('bin_id')
    integer('bin_count')
  }
  if (record.kind === 'LLMDrift' || record.kind === 'GenAIEval') {
    if (typeof f['uid'] !== 'string' || !UUID_V7.test(f['uid']))
      diffs.push(`${where}: uid ${show(f['uid'])} is not a UUIDv7`)
    equal('status', 'Pending')
    equal('id', 0)
    integer('id')
    for (const field of ['updated_at', 'processing_started_at', 'processing_ended_at', 'processing_duration'])
      equal(field, null)
  }
  if (record.kind === 'LLMDrift') equal('score', null)
  if (record.kind === 'GenAIEval') {
    equal('entity_type', 'GenAI')
    equal('retry_count', 0)
    integer('retry_count')
  }
  return diffs
}

/**
 * Compares our documents with the original's, record by record: the same number of documents,
 * in the same order (`documentOrder: 'same'`) or paired by content (`'any'`); in each, the same multiset of record keys (feature/metric and bin; LLM/GenAI records by their
 * context's `n`: order within a document is not compared, as the original builds records from
 * hash maps); per record the same field names (in the same order too when `sameOrder`), the
 * same values (numbers within 1e-9, and written as integers or as floats alike), and the fields
 * that differ by nature (timestamps, generated uids and session ids) compared by format.
 */
export function compareClients(
  theirs: string[],
  ours: string[],
  { sameOrder, documentOrder = 'same' }: { sameOrder: boolean; documentOrder?: 'same' | 'any' },
): string[] {
  const diffs: string[] = []
  if (ours.length !== theirs.length)
    diffs.push(`ours published ${ours.length} documents, the original ${theirs.length}`)
  const paired = documentOrder === 'same' ? ours : pairDocuments(theirs, ours, sameOrder)
  theirs
    .slice(0, ours.length)
    .forEach((text, d) => diffs.push(...compareDocuments(text, paired[d]!, `document ${d}`, sameOrder)))
  return diffs
}

/**
 * `ours` reordered so that each of the original's documents meets an equal one of ours where
 * there is one (greedily, in the original's order); the rest keep their order.
 */
function pairDocuments(theirs: string[], ours: string[], sameOrder: boolean): string[] {
  const left = [...ours]
  const paired: Array<string | undefined> = theirs.map((text) => {
    const i = left.findIndex((candidate) => compareDocuments(text, candidate, '', sameOrder).length === 0)
    return i < 0 ? undefined : left.splice(i, 1)[0]
  })
  return paired.map((doc) => doc ?? left.shift()!).concat(left)
}

function compareDocuments(theirs: string, ours: string, at: string, sameOrder: boolean): string[] {
  const diffs: string[] = []
  const a = readDocument(theirs)
  const b = readDocument(ours)
  const keysA = a.map((r) => `${r.kind} ${r.key}`).sort()
  const keysB = b.map((r) => `${r.kind} ${r.key}`).sort()
  if (show(keysA) !== show(keysB)) {
    const missing = keysA.filter((k) => !keysB.includes(k))
    const extra = keysB.filter((k) => !keysA.includes(k))
    diffs.push(
      `${at}: records differ: ours lacks ${show(missing)}, ours adds ${show(extra)} (${keysB.length} vs ${keysA.length})`,
    )
  }
  for (const ra of a) {
    const rb = b.find((r) => r.kind === ra.kind && r.key === ra.key)
    if (rb !== undefined) diffs.push(...compareRecords(ra, rb, `${at} ${ra.kind} ${ra.key}`, sameOrder))
  }
  return diffs
}

/** Fields generated by each client on its own, compared by format only. */
const BY_FORMAT: Record<string, RegExp> = { created_at: RFC3339_UTC, uid: UUID_V7 }

function compareRecords(a: ReadRecord, b: ReadRecord, where: string, sameOrder: boolean): string[] {
  const diffs: string[] = []
  const orderA = sameOrder ? a.order : [...a.order].sort()
  const orderB = sameOrder ? b.order : [...b.order].sort()
  if (show(orderA) !== show(orderB)) diffs.push(`${where}: fields ${show(b.order)}, the original's ${show(a.order)}`)
  for (const field of a.order) {
    if (!(field in b.fields)) continue
    const va = a.fields[field]
    const vb = b.fields[field]
    let pattern = BY_FORMAT[field]
    // A profile's uid (Spc/Psi/Custom in 0.25) is the same on both sides; only LLM/GenAI uids are new per record.
    if (field === 'uid' && a.kind !== 'LLMDrift' && a.kind !== 'GenAIEval') pattern = undefined
    // A session id the caller did not give is a new UUIDv7 on each side.
    if (field === 'session_id' && typeof va === 'string' && UUID_V7.test(va)) pattern = UUID_V7
    if (pattern !== undefined) {
      if (typeof vb !== 'string' || !pattern.test(vb))
        diffs.push(`${where}: ${field} ${show(vb)} does not have the original's format (${show(va)})`)
      continue
    }
    if (typeof va === 'number' && typeof vb === 'number') {
      if (!close(va, vb)) diffs.push(`${where}: ${field} ${vb}, the original's ${va}`)
      const la = a.lexemes[field] ?? ''
      const lb = b.lexemes[field] ?? ''
      if (INTEGER.test(la) !== INTEGER.test(lb))
        diffs.push(`${where}: ${field} written as ${lb}, the original writes ${la}`)
      continue
    }
    if (show(canonical(va)) !== show(canonical(vb)))
      diffs.push(`${where}: ${field} ${show(vb)}, the original's ${show(va)}`)
  }
  return diffs
}

/** Equal as JSON values: objects compare whatever the order of their keys. */
function sameJson(a: unknown, b: unknown): boolean {
  return show(canonical(a as Json)) === show(canonical(b as Json))
}

/** A JSON value with object keys sorted, so that two serialisations of it compare equal. */
function canonical(value: Json | undefined): Json | undefined {
  if (Array.isArray(value)) return value.map((v) => canonical(v)!)
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {}
    for (const key of Object.keys(value).sort()) out[key] = canonical(value[key])!
    return out
  }
  return value
}

/** Which documents of a list belong to the profile `identity` (by name or uid), in order. */
export function documentsOf(documents: string[], identity: Identity): string[] {
  return documents.filter((text) => {
    const [record] = readDocument(text)
    if (record === undefined) return false
    const f = record.fields
    return identity.format === 'v0.9'
      ? f['space'] === identity.space && f['name'] === identity.name && f['version'] === identity.version
      : (f['uid'] ?? null) === identity.uid || f['entity_uid'] === identity.uid
  })
}
