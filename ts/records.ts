/**
 * The wire formats as TypeScript types, for reading what a transport received (e.g.
 * `MockConfig.documents()`, lines of the File transport): v0.9 records (contract section 4)
 * carry `space`/`name`/`version`, 0.25 records (Scouter 0.14+) the profile's `uid`.
 */

interface RecordBase {
  /** RFC 3339 UTC, e.g. `2025-08-25T12:00:00.123456789Z`. */
  created_at: string
  space: string
  name: string
  version: string
}

/** The mean of one chunk of one SPC feature. */
export interface SpcServerRecord extends RecordBase {
  feature: string
  value: number
}

/** How many values of one PSI feature fell into one bin. */
export interface PsiServerRecord extends RecordBase {
  feature: string
  bin_id: number
  bin_count: number
}

/** The mean of one custom metric over a batch. */
export interface CustomServerRecord extends RecordBase {
  metric: string
  value: number
}

/** One LLM record as the server receives it. */
export interface LLMDriftServerRecord {
  record: RecordBase & {
    prompt: unknown
    context: Record<string, unknown>
    status: 'Pending'
    id: 0
    uid: string
    score: null
    updated_at: null
    processing_started_at: null
    processing_ended_at: null
    processing_duration: null
  }
}

/** What every 0.25 record carries instead of `space`/`name`/`version`. */
interface UidRecordBase {
  /** RFC 3339 UTC, e.g. `2025-08-25T12:00:00.123456789Z`. */
  created_at: string
  /** The profile's `config.uid`. */
  uid: string
  /** Always 0: the server resolves the entity from `uid`. */
  entity_id: 0
}

/** 0.25: the mean of one chunk of one SPC feature. */
export interface SpcUidServerRecord extends UidRecordBase {
  feature: string
  value: number
}

/** 0.25: how many values of one PSI feature fell into one bin. */
export interface PsiUidServerRecord extends UidRecordBase {
  feature: string
  bin_id: number
  bin_count: number
}

/** 0.25: the mean of one custom metric over a batch. */
export interface CustomUidServerRecord extends UidRecordBase {
  metric: string
  value: number
}

/** 0.25: one GenAI eval record (an `EvalRecord`) as the server receives it. */
export interface GenAIEvalServerRecord {
  record: {
    /** The `EvalRecord`'s `id`, `""` when none was given. */
    record_id: string
    session_id: string
    created_at: string
    /** The record's own UUIDv7. */
    uid: string
    context: Record<string, unknown>
    id: 0
    updated_at: null
    processing_started_at: null
    processing_ended_at: null
    processing_duration: null
    entity_id: 0
    /** The profile's `config.uid`. */
    entity_uid: string
    status: 'Pending'
    entity_type: 'GenAI'
    retry_count: 0
    /** 32 hex digits, or null. */
    trace_id: string | null
    /** `"key=value"`. */
    tags: string[]
  }
}

/** One v0.9 record, tagged by its kind. */
export type ServerRecord =
  | { Spc: SpcServerRecord }
  | { Psi: PsiServerRecord }
  | { Custom: CustomServerRecord }
  | { LLMDrift: LLMDriftServerRecord }

/** One v0.9 document: records of one kind from one profile, never empty. */
export interface ServerRecords {
  records: ServerRecord[]
}

/** One 0.25 record, tagged by its kind. */
export type UidServerRecord =
  | { Spc: SpcUidServerRecord }
  | { Psi: PsiUidServerRecord }
  | { Custom: CustomUidServerRecord }
  | { GenAIEval: GenAIEvalServerRecord }

/** One 0.25 document (a queue whose profile has a `uid`): records of one kind, never empty. */
export interface UidServerRecords {
  records: UidServerRecord[]
}
