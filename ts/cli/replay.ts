/**
 * `scouter-queue replay PATH --to kafka|rabbitmq|redis|http`: re-publishes documents through the
 * core's transport code (confirmations, retries with the config's `maxRetries`). PATH is a
 * File-transport JSON-lines file (each line one document, v0.9 or 0.25, told apart by its
 * records) or a spool directory (`spoolDir`: the frames no process saw acknowledged, read with
 * the spool's lock held). Shows a progress bar on a terminal and the accounting at the end; exit 1
 * when any document failed, any entry was not a document, or a signal stopped it before the end.
 * @internal
 */
import { Option, type Command } from 'commander'

import native = require('../native')
import { errorFromBinding } from '../errors'
import { toBinding } from '../config/transports'
import { EXIT_FAILURE, EXIT_OK, printer } from './output'
import { ProgressBar } from './progress'
import { onStopSignals } from './signals'
import { addTransportOptions, buildConfig, describeTransport, type TransportFlags, type TransportName } from './transport-options'

/** The transports `replay` publishes to. */
const TARGETS: readonly TransportName[] = ['kafka', 'rabbitmq', 'redis', 'http']

/** Entries read and published per step (between two progress updates). */
const STEP = 64

/** The flags of `replay`. */
interface ReplayFlags extends TransportFlags {
  to: TransportName
  consume?: boolean
}

/** Registers the command on `program`. */
export function registerReplay(program: Command): void {
  const command = program
    .command('replay')
    .description('re-publish a File-transport JSON-lines file or a spool directory to a transport')
    .argument('<path>', 'a JSON-lines file written by the File transport, or a spoolDir directory')
    .addOption(new Option('--to <transport>', 'where to publish').choices(TARGETS).makeOptionMandatory())
    .option('--consume', 'spool only: acknowledge each published frame, so the service will not replay it again')
  addTransportOptions(command, TARGETS, true)
  command
    .addHelpText(
      'after',
      '\nOptions not given fall back to the environment variables and defaults of the transport\n' +
        'configs (KafkaConfig, RabbitMQConfig, RedisConfig, HttpConfig).\n\n' +
        'A spool directory is locked while the replay runs (a service using it makes the replay fail);\n' +
        'its frames are only read, unless --consume marks each published one as done. A JSON-lines\n' +
        'file is never changed. Exits 1 when any document failed, any line was not a document, or\n' +
        'Ctrl-C stopped it before the end.\n\n' +
        'Examples:\n' +
        '  $ scouter-queue replay scouter-records.jsonl --to kafka --brokers localhost:9092\n' +
        '  $ scouter-queue replay ./spool --to http --server-uri http://scouter:8000 --consume',
    )
    .action(async (path: string, flags: ReplayFlags) => {
      process.exitCode = await replay(path, flags)
    })
}

/** Runs `replay`; the exit code. */
async function replay(path: string, flags: ReplayFlags): Promise<number> {
  const config = buildConfig(flags.to, flags)
  const out = printer(process.stdout)
  const err = printer(process.stderr)
  const opened = await native.openReplay(path, config[toBinding]().config, flags.consume === true)
  if (!(opened instanceof native.BindingReplay)) {
    err.line(`${err.c.red('error')} replay: ${errorFromBinding(opened).message}`)
    return EXIT_FAILURE
  }
  err.line(err.c.dim(`replay: ${path} to ${describeTransport(config)}`))
  const stop = onStopSignals()
  let progress: native.BindingReplayProgress | undefined
  let bar: ProgressBar | undefined
  let failure: string | undefined
  try {
    while (!stop.stopped) {
      const step = await opened.step(STEP)
      if ('code' in step) {
        failure = errorFromBinding(step).message
        break
      }
      progress = step
      bar ??= new ProgressBar(process.stderr, err.c, step.total)
      if (step.problems.length > 0) bar.clear()
      for (const problem of step.problems) err.line(`${err.c.yellow('warn')} ${problem}`)
      bar.update(step.position, `${step.published} published, ${step.failed} failed`, step.done)
      if (step.done) break
    }
  } finally {
    bar?.clear()
    const closed = await opened.close()
    if (closed !== null && closed !== undefined) failure ??= errorFromBinding(closed).message
    stop.dispose()
  }
  const counts = progress ?? { read: 0, published: 0, failed: 0, invalid: 0, records: 0, done: false }
  const stopped = counts.done ? '' : ' (stopped before the end)'
  const summary =
    `replay: ${counts.read} read, ${counts.published} published, ${counts.failed} failed, ` +
    `${counts.invalid} invalid, ${counts.records} records${stopped}`
  // Stopped by a signal before the end: not everything was replayed, which is a failure too.
  const bad = counts.failed > 0 || counts.invalid > 0 || failure !== undefined || !counts.done
  out.line(bad ? out.c.red(summary) : out.c.green(summary))
  if (failure !== undefined) err.line(`${err.c.red('error')} replay: ${failure}`)
  return bad ? EXIT_FAILURE : EXIT_OK
}
