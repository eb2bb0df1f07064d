/**
 * The wire format (contract section 4) as TypeScript types, for reading what a transport
 * received (e.g. `MockConfig.documents()`, lines of the File transport).
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

/** One record, tagged by its kind. */
export type ServerRecord =
  | { Spc: SpcServerRecord }
  | { Psi: PsiServerRecord }
  | { Custom: CustomServerRecord }
  | { LLMDrift: LLMDriftServerRecord }

/** One published document: records of one kind from one profile, never empty. */
export interface ServerRecords {
  records: ServerRecord[]
}
