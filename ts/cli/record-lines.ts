/**
 * How `tail` prints a document: one line per record, in either wire format (v0.9 records carry
 * `space`/`name`/`version`, 0.25 records the profile's `uid`). A line is
 * `<created_at> <kind> <who> <what>`, e.g.
 * `2025-08-25T12:00:00.123456000Z psi scouter/model/v0.1.0 feature_0 bin 3 count 12`.
 * @internal
 */
import type { Colors } from './output'

/** Longest context or prompt text shown on an LLM or eval line. */
const MAX_TEXT = 120

/** The lines of one document, plus how many records it held. */
export interface DocumentLines {
  /** One line per record; a single `?` line when the text is not a document. */
  lines: string[]
  /** Records in the document (0 when it is not one). */
  records: number
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function text(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === undefined) return '?'
  return JSON.stringify(value)
}

function shorten(value: string): string {
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT - 1)}…` : value
}

/** Who a record belongs to: `space/name/vversion` (v0.9) or `uid:<uid>` (0.25). */
function who(body: Json): string {
  if (typeof body.space === 'string') return `${body.space}/${text(body.name)}/v${text(body.version)}`
  if (typeof body.entity_uid === 'string') return `uid:${body.entity_uid}`
  return `uid:${text(body.uid)}`
}

/** The kind and the record-specific part of one record (`{ "Psi": {...} }`). */
function describe(tag: string, body: Json): { kind: string; who: string; what: string; at: string } {
  switch (tag) {
    case 'Spc':
      return { kind: 'spc', who: who(body), what: `${text(body.feature)} = ${text(body.value)}`, at: text(body.created_at) }
    case 'Psi':
      return { kind: 'psi', who: who(body), what: `${text(body.feature)} bin ${text(body.bin_id)} count ${text(body.bin_count)}`, at: text(body.created_at) }
    case 'Custom':
      return { kind: 'custom', who: who(body), what: `${text(body.metric)} = ${text(body.value)}`, at: text(body.created_at) }
    case 'LLMDrift': {
      const record = isObject(body.record) ? body.record : {}
      const prompt = record.prompt === undefined || record.prompt === null ? '' : ` prompt ${shorten(text(record.prompt))}`
      return { kind: 'llm', who: who(record), what: `record ${text(record.uid)} context ${shorten(text(record.context))}${prompt}`, at: text(record.created_at) }
    }
    case 'GenAIEval': {
      const record = isObject(body.record) ? body.record : {}
      return { kind: 'genai', who: who(record), what: `record ${text(record.uid)} context ${shorten(text(record.context))}`, at: text(record.created_at) }
    }
    default:
      return { kind: tag.toLowerCase(), who: who(body), what: shorten(JSON.stringify(body)), at: text(body.created_at) }
  }
}

/** The lines `tail` prints for the document `raw` (its JSON text). */
export function documentLines(raw: string, c: Colors): DocumentLines {
  let document: unknown
  try {
    document = JSON.parse(raw)
  } catch {
    document = undefined
  }
  const records = isObject(document) && Array.isArray(document.records) ? document.records : undefined
  if (records === undefined) {
    return { lines: [`${c.red('?')} not a scouter document: ${shorten(raw)}`], records: 0 }
  }
  const lines = records.map((record: unknown) => {
    const tag = isObject(record) ? Object.keys(record)[0] : undefined
    const body = tag !== undefined && isObject(record) && isObject(record[tag]) ? (record[tag] as Json) : undefined
    if (tag === undefined || body === undefined) return `${c.red('?')} not a record: ${shorten(JSON.stringify(record))}`
    const line = describe(tag, body)
    return `${c.dim(line.at)} ${c.cyan(line.kind)} ${c.bold(line.who)} ${line.what}`
  })
  return { lines, records: records.length }
}
