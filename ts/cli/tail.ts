/**
 * `scouter-queue tail --kafka|--rabbitmq|--redis|--file`: reads documents back from a transport
 * and prints them, one line per record (or, with `--json`, each document's JSON on one line).
 * The consumers are the core's (`src/core/tail`), so the transport config, built from the same
 * flags and environment variables as in a program, applies unchanged.
 * @internal
 */
import { Option, type Command } from 'commander'

import native = require('../native')
import { errorFromBinding } from '../errors'
import { toBinding } from '../config/transports'
import { documentLines } from './record-lines'
import { EXIT_FAILURE, EXIT_OK, printer, UsageError } from './output'
import { onStopSignals } from './signals'
import { addTransportOptions, buildConfig, describeTransport, parseCount, type TransportFlags, type TransportName } from './transport-options'

/** The transports `tail` reads. */
const TAILED: readonly TransportName[] = ['kafka', 'rabbitmq', 'redis', 'file']

/** How long one wait for documents lasts before the stop flag is looked at again. */
const POLL_MS = 200

/** Documents asked for per wait (the core hands out at most 256). */
const MAX_BATCH = 256

/** The flags of `tail`. */
interface TailFlags extends TransportFlags {
  kafka?: boolean
  rabbitmq?: boolean
  redis?: boolean
  file?: boolean
  json?: boolean
  fromBeginning?: boolean
  maxDocuments?: number
}

/** Registers the command on `program`. */
export function registerTail(program: Command): void {
  const command = program
    .command('tail')
    .description('print the documents arriving on a transport, one line per record')
    .addOption(new Option('--kafka', 'read the Kafka topic (from its end; see --from-beginning)'))
    .addOption(new Option('--rabbitmq', 'consume the RabbitMQ queue (this TAKES the messages off the queue)'))
    .addOption(new Option('--redis', 'subscribe to the Redis channel'))
    .addOption(new Option('--file', 'follow the File transport\'s JSON-lines file'))
    .option('--json', 'print each document\'s JSON on one line instead of one line per record')
    .option('--from-beginning', 'Kafka: every partition from its first offset; file: existing lines first')
    .addOption(new Option('--max-documents <n>', 'exit after this many documents').argParser(parseCount))
  addTransportOptions(command, TAILED, false)
  command
    .addHelpText(
      'after',
      '\nOptions not given fall back to the environment variables and defaults of the transport\n' +
        'configs (KafkaConfig, RabbitMQConfig, RedisConfig, FileConfig). Stop with Ctrl-C.\n\n' +
        'RabbitMQ: tail is a consumer of the queue like any other: the messages it prints are\n' +
        'acknowledged and gone, and the broker shares the queue between it and other consumers.\n\n' +
        'Examples:\n' +
        '  $ scouter-queue tail --kafka --brokers localhost:9092 --topic scouter_monitoring\n' +
        '  $ scouter-queue tail --redis --channel scouter_monitoring --json\n' +
        '  $ scouter-queue tail --file --path records.jsonl --from-beginning --max-documents 10',
    )
    .action(async (flags: TailFlags) => {
      process.exitCode = await tail(flags)
    })
}

/** Which transport the flags name; exactly one must be given. */
function chosenTransport(flags: TailFlags): TransportName {
  const chosen = TAILED.filter((name) => flags[name as 'kafka' | 'rabbitmq' | 'redis' | 'file'] === true)
  if (chosen.length !== 1) {
    throw new UsageError(`give exactly one of --kafka, --rabbitmq, --redis, --file (got ${chosen.length === 0 ? 'none' : chosen.map((n) => `--${n}`).join(' ')})`)
  }
  return chosen[0] as TransportName
}

/** Runs `tail`; the exit code. */
async function tail(flags: TailFlags): Promise<number> {
  const transport = chosenTransport(flags)
  if (flags.fromBeginning === true && transport !== 'kafka' && transport !== 'file') {
    throw new UsageError(`option '--from-beginning' does not apply to the ${transport} transport`)
  }
  const config = buildConfig(transport, flags)
  const out = printer(process.stdout)
  const err = printer(process.stderr)
  const stop = onStopSignals()
  const opened = await native.openTail(config[toBinding]().config, flags.fromBeginning === true)
  if (!(opened instanceof native.BindingTail)) {
    stop.dispose()
    err.line(`${err.c.red('error')} tail: ${errorFromBinding(opened).message}`)
    return EXIT_FAILURE
  }
  err.line(err.c.dim(`tail: reading ${describeTransport(config)} (Ctrl-C to stop)`))
  let documents = 0
  let records = 0
  let code = EXIT_OK
  try {
    while (!stop.stopped && (flags.maxDocuments === undefined || documents < flags.maxDocuments)) {
      const left = flags.maxDocuments === undefined ? MAX_BATCH : flags.maxDocuments - documents
      const batch = await opened.next(POLL_MS, left)
      if (batch === null) continue
      if (!Array.isArray(batch)) {
        err.line(`${err.c.red('error')} tail: ${errorFromBinding(batch).message}`)
        code = EXIT_FAILURE
        break
      }
      for (const raw of batch) {
        documents += 1
        if (flags.json === true) {
          out.line(raw)
          continue
        }
        const shown = documentLines(raw, out.c)
        records += shown.records
        for (const line of shown.lines) out.line(line)
      }
    }
  } finally {
    await opened.close()
    stop.dispose()
  }
  const counted = flags.json === true ? '' : `, ${records} record${records === 1 ? '' : 's'}`
  err.line(err.c.dim(`tail: ${documents} document${documents === 1 ? '' : 's'}${counted}`))
  return code
}
