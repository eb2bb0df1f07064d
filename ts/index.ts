/**
 * scouter-queue: stream ML-monitoring data from Node.js to a Scouter server. Public exports only.
 */
export { ScouterQueue, type ScouterQueueOptions, type ScouterQueueStats, type FileUrl } from './scouter-queue'
export type { ShutdownHooksOptions, ShutdownSignal } from './shutdown-hooks'
export { Queue, type DriftKind, type ItemOf, type QueueItem, type WireFormat } from './queue'
export { Feature, Features, type FeatureKind, type FeatureValue } from './builders/feature'
export { Metric, Metrics } from './builders/metric'
export { LLMRecord, type LLMRecordInit, type JsonValue, type JsonObject, type WithToJson } from './builders/llm-record'
export { EvalRecord, type EvalRecordInit } from './builders/eval-record'
export {
  FileConfig,
  MockConfig,
  KafkaConfig,
  RabbitMQConfig,
  RedisConfig,
  HttpConfig,
  GrpcConfig,
  type FileConfigOptions,
  type MockConfigOptions,
  type KafkaConfigOptions,
  type KafkaCompression,
  type RabbitMQConfigOptions,
  type RedisConfigOptions,
  type HttpConfigOptions,
  type GrpcConfigOptions,
  type TransportConfig,
} from './config/transports'
export type { QueueStats, TransportStats } from './stats'
export type { ScouterQueueEvent, TransportStateEvent, TransportConnectionEvent, BreakerState } from './events'
export { CHANNELS, type PublishMessage, type ErrorMessage, type DropMessage } from './diagnostics'
export type { Logger, LogLevel } from './logger'
export type { MeterProviderLike } from './metrics/opentelemetry'
export type {
  RecordBase,
  LLMRecordBody,
  UidRecordBase,
  GenAIEvalRecordBody,
  ServerRecords,
  ServerRecord,
  UidServerRecords,
  UidServerRecord,
  SpcServerRecord,
  PsiServerRecord,
  CustomServerRecord,
  LLMDriftServerRecord,
  SpcUidServerRecord,
  PsiUidServerRecord,
  CustomUidServerRecord,
  GenAIEvalServerRecord,
} from './records'
export {
  ScouterQueueError,
  ProfileError,
  ConfigError,
  TransportError,
  SpoolError,
  QueueClosedError,
  UnknownAliasError,
} from './errors'
