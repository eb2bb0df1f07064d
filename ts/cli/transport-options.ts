/**
 * The transport flags of `tail` and `replay`, and the config each builds. Every flag is an option
 * of a config class (`KafkaConfig`, `RabbitMQConfig`, `RedisConfig`, `FileConfig`, `HttpConfig`),
 * and the class is constructed from the flags, so a flag not given falls back to the same
 * environment variable and default as in a program. Passwords have no flag (a command line is
 * visible to every user of the machine): they come from the configs' environment variables or
 * from the credentials of an `--address`/`--server-uri`.
 * @internal
 */
import { InvalidArgumentError, Option, type Command } from 'commander'

import {
  FileConfig,
  HttpConfig,
  KafkaConfig,
  RabbitMQConfig,
  RedisConfig,
} from '../config/transports'
import { optionRows } from '../config/options'
import { UsageError } from './output'

/** The transports the command line can name. */
export type TransportName = 'kafka' | 'rabbitmq' | 'redis' | 'file' | 'http'

/** A config the command line builds. */
export type CliTransportConfig = KafkaConfig | RabbitMQConfig | RedisConfig | FileConfig | HttpConfig

/** The parsed transport flags (commander's camel-cased names); undefined when not given. */
export interface TransportFlags {
  brokers?: string
  topic?: string
  config?: Record<string, string>
  address?: string
  host?: string
  port?: number
  username?: string
  queue?: string
  channel?: string
  path?: string
  serverUri?: string
  timeoutMs?: number
  maxRetries?: number
}

/**
 * Each flag: its commander spelling, what it is, and the transports it applies to. The env vars
 * and defaults in its help come from the option table (the row of the same name in each of those
 * transports), so `--help` cannot disagree with the configs.
 */
const FLAGS: ReadonlyArray<{ key: keyof TransportFlags; flags: string; description: string; transports: readonly TransportName[]; publishing?: boolean }> = [
  { key: 'brokers', flags: '--brokers <list>', description: 'Kafka bootstrap servers', transports: ['kafka'] },
  { key: 'topic', flags: '--topic <name>', description: 'Kafka topic', transports: ['kafka'] },
  { key: 'config', flags: '--config <key=value>', description: 'extra librdkafka setting, repeatable (e.g. security.protocol=SASL_SSL)', transports: ['kafka'] },
  { key: 'address', flags: '--address <uri>', description: 'RabbitMQ AMQP URI or Redis URL', transports: ['rabbitmq', 'redis'] },
  { key: 'host', flags: '--host <host>', description: 'RabbitMQ host when no --address', transports: ['rabbitmq'] },
  { key: 'port', flags: '--port <port>', description: 'RabbitMQ port when no --address', transports: ['rabbitmq'] },
  {
    key: 'username',
    flags: '--username <user>',
    description: 'user for Kafka SASL, RabbitMQ or the Scouter server; the password comes from the env var of each (KAFKA_PASSWORD, RABBITMQ_PASSWORD, SCOUTER_PASSWORD), never from a flag',
    transports: ['kafka', 'rabbitmq', 'http'],
  },
  { key: 'queue', flags: '--queue <name>', description: 'RabbitMQ queue', transports: ['rabbitmq'] },
  { key: 'channel', flags: '--channel <name>', description: 'Redis channel', transports: ['redis'] },
  { key: 'path', flags: '--path <file>', description: 'JSON-lines file', transports: ['file'] },
  { key: 'serverUri', flags: '--server-uri <uri>', description: 'Scouter server', transports: ['http'] },
  { key: 'timeoutMs', flags: '--timeout-ms <ms>', description: 'HTTP request time-out', transports: ['http'] },
  { key: 'maxRetries', flags: '--max-retries <n>', description: 'retries of a failed publish after the first attempt', transports: ['kafka', 'rabbitmq', 'redis', 'file', 'http'], publishing: true },
]

/** `description`, then the env vars and default of the flag's row in each of its transports. */
function helpText(flag: (typeof FLAGS)[number]): string {
  const parts = new Set<string>()
  for (const transport of flag.transports) {
    const spec = optionRows().find((row) => row.scope === transport && row.name === flag.key)
    if (spec === undefined) continue
    const env = spec.env.length > 0 ? `env ${spec.env.join(', then ')}` : ''
    const fallback = spec.default !== undefined && spec.default !== '' ? `default ${spec.default}` : ''
    const text = [env, fallback].filter((part) => part !== '').join(', ')
    if (text !== '') parts.add(flag.transports.length > 1 && flag.key !== 'maxRetries' ? `${transport}: ${text}` : text)
  }
  return parts.size === 0 ? flag.description : `${flag.description} (${[...parts].join('; ')})`
}

/** A non-negative integer flag value. */
export function parseCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a non-negative integer')
  return Number(value)
}

function collectSetting(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const equals = value.indexOf('=')
  if (equals <= 0) throw new InvalidArgumentError('must be key=value')
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) }
}

/** Adds the flags of `transports` to `command`; those about publishing only when it publishes. */
export function addTransportOptions(command: Command, transports: readonly TransportName[], publishing: boolean): Command {
  for (const flag of FLAGS) {
    if (!flag.transports.some((name) => transports.includes(name))) continue
    if (flag.publishing === true && !publishing) continue
    const option = new Option(flag.flags, helpText(flag))
    if (flag.key === 'port' || flag.key === 'timeoutMs' || flag.key === 'maxRetries') option.argParser(parseCount)
    if (flag.key === 'config') option.argParser(collectSetting)
    command.addOption(option)
  }
  return command
}

/**
 * The config of `transport` built from `flags`.
 * @throws {UsageError} when a flag given does not apply to `transport`, or a config option is invalid.
 */
export function buildConfig(transport: TransportName, flags: TransportFlags): CliTransportConfig {
  for (const flag of FLAGS) {
    if (flags[flag.key] !== undefined && !flag.transports.includes(transport)) {
      throw new UsageError(`option '${flag.flags.split(' ')[0]}' does not apply to the ${transport} transport`)
    }
  }
  try {
    switch (transport) {
      case 'kafka':
        return new KafkaConfig({ brokers: flags.brokers, topic: flags.topic, config: flags.config, username: flags.username, maxRetries: flags.maxRetries })
      case 'rabbitmq':
        return new RabbitMQConfig({ address: flags.address, host: flags.host, port: flags.port, username: flags.username, queue: flags.queue, maxRetries: flags.maxRetries })
      case 'redis':
        return new RedisConfig({ address: flags.address, channel: flags.channel, maxRetries: flags.maxRetries })
      case 'file':
        return new FileConfig({ path: flags.path, maxRetries: flags.maxRetries })
      case 'http':
        return new HttpConfig({ serverUri: flags.serverUri, username: flags.username, timeoutMs: flags.timeoutMs, maxRetries: flags.maxRetries })
    }
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
}

/** Where `config` reads or writes, for messages (no secret: the configs redact themselves). */
export function describeTransport(config: CliTransportConfig): string {
  switch (config.kind) {
    case 'kafka':
      return `kafka topic ${config.topic} at ${config.brokers}`
    case 'rabbitmq':
      return `rabbitmq queue ${config.queue} at ${config.address}`
    case 'redis':
      return `redis channel ${config.channel} at ${config.address}`
    case 'file':
      return `file ${config.path}`
    case 'http':
      return `scouter server ${config.serverUri}`
  }
}
