/**
 * scouter-queue: stream ML-monitoring data from Node.js to a Scouter server. Public exports only.
 */
export { ScouterQueue, type ScouterQueueOptions, type ScouterQueueStats } from './scouter-queue'
export type { ShutdownHooksOptions, ShutdownSignal } from './shutdown-hooks'
export { Queue, type DriftKind, type QueueItem } from './queue'
export { Feature, Features, type FeatureKind, type FeatureValue } from './builders/feature'
export { Metric, Metrics } from './builders/metric'
export { LLMRecord, type LLMRecordInit, type JsonValue } from './builders/llm-record'
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
export type { ScouterQueueEvent, TransportStateEvent, BreakerState } from './events'
export type {
  ServerRecords,
  ServerRecord,
  SpcServerRecord,
  PsiServerRecord,
  CustomServerRecord,
  LLMDriftServerRecord,
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
