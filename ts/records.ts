/**
 * The wire formats as TypeScript types, for reading what a transport received (e.g.
 * `MockConfig.documents()`, lines of the File transport): v0.9 records (contract section 4)
 * carry `space`/`name`/`version`, 0.25 records (Scouter 0.14+) the profile's `uid`.
 */

/** What every v0.9 record carries: when, and whose. */
export interface RecordBase {
  /** RFC 3339 UTC, e.g. `2025-08-25T12:00:00.123456789Z`. */
  created_at: string
  /** The profile's `config.space`. */
  space: string
  /** The profile's `config.name`. */
  name: string
  /** The profile's `config.version`. */
  version: string
}

/** The mean of one chunk of one SPC feature. */
export interface SpcServerRecord extends RecordBase {
  /** The monitored feature. */
  feature: string
  /** The mean of its values in the chunk; always finite. */
  value: number
}

/** How many values of one PSI feature fell into one bin. */
export interface PsiServerRecord extends RecordBase {
  /** The monitored feature. */
  feature: string
  /** The bin's `id` in the profile; an integer. */
  bin_id: number
  /** How many of the batch's values fell into it (0 included); an integer. */
  bin_count: number
}

/** The mean of one custom metric over a batch. */
export interface CustomServerRecord extends RecordBase {
  /** The metric's name, lower case. */
  metric: string
  /** The mean of its values in the batch; always finite. */
  value: number
}

/** One v0.9 LLM record (an `LLMRecord`), wrapped as the server expects it. */
export interface LLMDriftServerRecord {
  /** The record, with the fields the server fills in left empty. */
  record: LLMRecordBody
}

/** The fields of a v0.9 LLM record. */
export interface LLMRecordBody extends RecordBase {
  /** The `LLMRecord`'s prompt, or null. */
  prompt: unknown
  /** The `LLMRecord`'s context. */
  context: Record<string, unknown>
  /** Always `'Pending'`: the server scores it later. */
  status: 'Pending'
  /** Always 0: the server assigns it. */
  id: 0
  /** The `LLMRecord`'s UUIDv7. */
  uid: string
  /** Filled in by the server. */
  score: null
  /** Filled in by the server. */
  updated_at: null
  /** Filled in by the server. */
  processing_started_at: null
  /** Filled in by the server. */
  processing_ended_at: null
  /** Filled in by the server. */
  processing_duration: null
}

/** What every 0.25 record carries instead of `space`/`name`/`version`. */
export interface UidRecordBase {
  /** RFC 3339 UTC, e.g. `2025-08-25T12:00:00.123456789Z`. */
  created_at: string
  /** The profile's `config.uid`. */
  uid: string
  /** Always 0: the server resolves the entity from `uid`. */
  entity_id: 0
}

/** 0.25: the mean of one chunk of one SPC feature. */
export interface SpcUidServerRecord extends UidRecordBase {
  /** The monitored feature. */
  feature: string
  /** The mean of its values in the chunk; always finite. */
  value: number
}

/** 0.25: how many values of one PSI feature fell into one bin. */
export interface PsiUidServerRecord extends UidRecordBase {
  /** The monitored feature. */
  feature: string
  /** The bin's `id` in the profile; an integer. */
  bin_id: number
  /** How many of the batch's values fell into it (0 included); an integer. */
  bin_count: number
}

/** 0.25: the mean of one custom metric over a batch. */
export interface CustomUidServerRecord extends UidRecordBase {
  /** The metric's name, lower case. */
  metric: string
  /** The mean of its values in the batch; always finite. */
  value: number
}

/** 0.25: one GenAI eval record (an `EvalRecord`), wrapped as the server expects it. */
export interface GenAIEvalServerRecord {
  /** The record, with the fields the server fills in left empty. */
  record: GenAIEvalRecordBody
}

/** The fields of a 0.25 GenAI eval record. */
export interface GenAIEvalRecordBody {
  /** The `EvalRecord`'s `id`, `""` when none was given. */
  record_id: string
  /** The `EvalRecord`'s `sessionId` (a UUIDv7 when none was given). */
  session_id: string
  /** When the `EvalRecord` was built, RFC 3339 UTC. */
  created_at: string
  /** The record's own UUIDv7. */
  uid: string
  /** The `EvalRecord`'s context. */
  context: Record<string, unknown>
  /** Always 0: the server assigns it. */
  id: 0
  /** Filled in by the server. */
  updated_at: null
  /** Filled in by the server. */
  processing_started_at: null
  /** Filled in by the server. */
  processing_ended_at: null
  /** Filled in by the server. */
  processing_duration: null
  /** Always 0: the server resolves the entity from `entity_uid`. */
  entity_id: 0
  /** The profile's `config.uid`. */
  entity_uid: string
  /** Always `'Pending'`: the server evaluates it later. */
  status: 'Pending'
  /** Always `'GenAI'`. */
  entity_type: 'GenAI'
  /** Always 0 when sent. */
  retry_count: 0
  /** 32 hex digits in lower case, or null. */
  trace_id: string | null
  /** `"key=value"`, in the order they were added. */
  tags: string[]
}

/** One v0.9 record, tagged by its kind. */
export type ServerRecord =
  | {
      /** An SPC record. */
      Spc: SpcServerRecord
    }
  | {
      /** A PSI record. */
      Psi: PsiServerRecord
    }
  | {
      /** A Custom record. */
      Custom: CustomServerRecord
    }
  | {
      /** An LLM record. */
      LLMDrift: LLMDriftServerRecord
    }

/** One v0.9 document: records of one kind from one profile, never empty. */
export interface ServerRecords {
  /** The records, all of one kind. */
  records: ServerRecord[]
}

/** One 0.25 record, tagged by its kind. */
export type UidServerRecord =
  | {
      /** An SPC record. */
      Spc: SpcUidServerRecord
    }
  | {
      /** A PSI record. */
      Psi: PsiUidServerRecord
    }
  | {
      /** A Custom record. */
      Custom: CustomUidServerRecord
    }
  | {
      /** A GenAI eval record. */
      GenAIEval: GenAIEvalServerRecord
    }

/** One 0.25 document (a queue whose profile has a `uid`): records of one kind, never empty. */
export interface UidServerRecords {
  /** The records, all of one kind. */
  records: UidServerRecord[]
}
