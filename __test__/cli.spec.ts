/**
 * The command line (`scouter-queue`, `dist/cli.js`: build it with `npm run build:ts`) run as a
 * process: `check-profile` on the fixtures and on broken profiles; `tail` on the File transport
 * and on the real Kafka, RabbitMQ and Redis of scripts/services.sh; `replay` of a JSON-lines file
 * and of a spool directory to Kafka, RabbitMQ, Redis and the Scouter HTTP test server; usage
 * errors (exit 2) and failures (exit 1). Every document comes from the library itself (the same
 * Custom metrics through a v0.9 and a 0.25 profile), so the printed values are known exactly.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import { createClient } from 'redis'

import { FileConfig, KafkaConfig, Metrics, MockConfig, RabbitMQConfig, RedisConfig, ScouterQueue, type TransportConfig } from '../ts/index'
import { KNOWN_SET_DOCUMENTS, insertKnownSet, knownSetProfiles, uniqueName, waitFor } from './helpers/brokers'
import { CLI, runCli, startCli } from './helpers/cli'
import { editedProfile, profiles, tempDir, uidProfiles } from './helpers/fixtures'
import { ScouterTestServer } from './helpers/scouter-server'

const BROKERS = '127.0.0.1:9092'
const AMQP = 'amqp://guest:guest@127.0.0.1:5672/%2f'
const REDIS = 'redis://127.0.0.1:6379'
const UID = '0197f3a0-0000-7000-8000-000000000003'
/** RFC 3339 with nine fraction digits, as the records carry it. */
const AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/

/** What `tail` prints for the documents of {@link publishCustom}, timestamps taken off, sorted. */
const CUSTOM_LINES = [
  'custom scouter/custom_model/v0.1.0 mae = 1.5',
  'custom scouter/custom_model/v0.1.0 mape = 4',
  `custom uid:${UID} mae = 1.5`,
  `custom uid:${UID} mape = 4`,
]

/**
 * Publishes two documents through `transport`: Custom metrics mae 1 and 2 (mean 1.5) and mape 4,
 * once through the v0.9 fixture profile and once through the 0.25 one.
 */
async function publishCustom(transport: TransportConfig): Promise<void> {
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom, custom25: uidProfiles.custom }, transport)
  for (const alias of ['custom', 'custom25'] as const) {
    queues.get(alias).insert(Metrics.fromObject({ mae: 1, mape: 4 }))
    queues.get(alias).insert(Metrics.fromObject({ mae: 2 }))
  }
  const stats = await queues.shutdown()
  if (stats.custom!.published !== 2 || stats.custom25!.published !== 2) throw new Error(`not published: ${JSON.stringify(stats)}`)
}

/** A JSON-lines file holding the two documents of {@link publishCustom}; its path and lines. */
async function customFile(): Promise<{ path: string; lines: string[] }> {
  const path = join(tempDir(), 'records.jsonl')
  await publishCustom(new FileConfig({ path }))
  return { path, lines: readFileSync(path, 'utf8').trim().split('\n') }
}

/** `tail` lines with their timestamp checked and taken off, sorted. */
function withoutTimes(t: ExecutionContext, stdout: string): string[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const space = line.indexOf(' ')
      t.regex(line.slice(0, space), AT, line)
      return line.slice(space + 1)
    })
    .sort()
}

const sorted = (values: string[]): string[] => [...values].sort()

// ---------------------------------------------------------------- check-profile

test('check-profile: every fixture loads, one line each with kind, identity and format', async (t) => {
  const files = [...Object.values(profiles), ...Object.values(uidProfiles)]
  const { code, stdout, stderr } = await runCli(['check-profile', ...files])
  t.is(stderr, '')
  t.is(code, 0)
  t.deepEqual(stdout.split('\n'), [
    `ok    ${profiles.spc}: spc scouter/spc_model/v0.1.0 (format v0.9)`,
    `ok    ${profiles.psi}: psi scouter/psi_model/v0.1.0 (format v0.9)`,
    `ok    ${profiles.custom}: custom scouter/custom_model/v0.1.0 (format v0.9)`,
    `ok    ${profiles.llm}: llm scouter/llm_metrics/v0.0.1 (format v0.9)`,
    `ok    ${uidProfiles.spc}: spc scouter/spc_model/v0.1.0 uid 0197f3a0-0000-7000-8000-000000000001 (format 0.25)`,
    `ok    ${uidProfiles.psi}: psi scouter/psi_model/v0.1.0 uid 0197f3a0-0000-7000-8000-000000000002 (format 0.25)`,
    `ok    ${uidProfiles.custom}: custom scouter/custom_model/v0.1.0 uid ${UID} (format 0.25)`,
    `ok    ${uidProfiles.genai}: genai scouter/genai_eval/v0.1.0 uid 0197f3a0-0000-7000-8000-000000000004 (format 0.25)`,
    '8 profiles checked: 8 ok, 0 invalid',
    '',
  ])
})

test('check-profile: each problem is printed with its file and field path, and the exit code is 1', async (t) => {
  const badSampleSize = editedProfile('spc', (profile) => (profile.config.sample_size = 'ten'))
  const noSpace = editedProfile('psi', (profile) => delete profile.config.space)
  const missing = join(tempDir(), 'absent.json')
  const { code, stdout } = await runCli(['check-profile', profiles.custom, badSampleSize, missing, noSpace])
  t.is(code, 1)
  const lines = stdout.split('\n')
  t.is(lines.length, 6)
  t.is(lines[0], `ok    ${profiles.custom}: custom scouter/custom_model/v0.1.0 (format v0.9)`)
  t.is(lines[1], `error ${badSampleSize}: field \`config.sample_size\` invalid type: string "ten", expected u64`)
  t.is(lines[2], `error ${missing}: cannot be read: No such file or directory (os error 2)`)
  t.is(lines[3], `error ${noSpace}: field \`config.space\` is missing`)
  t.is(lines[4], '4 profiles checked: 1 ok, 3 invalid')
})

test('check-profile: a warning fromPath would emit is printed, and the profile still counts as ok', async (t) => {
  const upper = editedProfile('custom', (profile) => {
    profile.metrics.MAE = profile.metrics.mae
    delete profile.metrics.mae
  })
  const { code, stdout } = await runCli(['check-profile', upper])
  t.is(code, 0)
  t.deepEqual(stdout.split('\n'), [
    `ok    ${upper}: custom scouter/custom_model/v0.1.0 (format v0.9)`,
    `warn  ${upper}: metric name(s) MAE contain upper-case letters and can never match: inserted metric names are lower-cased`,
    '1 profile checked: 1 ok, 0 invalid',
    '',
  ])
})

test('check-profile: colors only when forced; NO_COLOR and a pipe print none', async (t) => {
  const plain = await runCli(['check-profile', profiles.psi])
  t.false(plain.stdout.includes('\u001b['))
  const forced = await runCli(['check-profile', profiles.psi], { env: { FORCE_COLOR: '1' } })
  t.true(forced.stdout.startsWith('\u001b[32mok\u001b[39m'), JSON.stringify(forced.stdout))
  const noColor = await runCli(['check-profile', profiles.psi], { env: { NO_COLOR: '1' } })
  t.false(noColor.stdout.includes('\u001b['))
})

// ---------------------------------------------------------------- usage

test('usage: --help for the program and each command exits 0; mistakes exit 2 with a clear message', async (t) => {
  const root = await runCli(['--help'])
  t.is(root.code, 0)
  for (const command of ['check-profile', 'tail', 'replay']) t.true(root.stdout.includes(command), command)
  for (const command of ['check-profile', 'tail', 'replay']) {
    const help = await runCli([command, '--help'])
    t.is(help.code, 0, command)
    t.true(help.stdout.startsWith(`Usage: scouter-queue ${command} `), help.stdout)
    t.true(help.stdout.includes('Example'), command)
  }
  const version = await runCli(['--version'])
  t.is(version.stdout.trim(), (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version)

  const cases: Array<[string[], string]> = [
    [[], 'Usage: scouter-queue'],
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [['check-profile'], "error: missing required argument 'file'"],
    [['check-profile', '--strict', profiles.psi], "error: unknown option '--strict'"],
    [['tail'], 'error: give exactly one of --kafka, --rabbitmq, --redis, --file (got none)'],
    [['tail', '--kafka', '--redis'], 'error: give exactly one of --kafka, --rabbitmq, --redis, --file (got --kafka --redis)'],
    [['tail', '--kafka', '--channel', 'x'], "error: option '--channel' does not apply to the kafka transport"],
    [['tail', '--redis', '--from-beginning'], "error: option '--from-beginning' does not apply to the redis transport"],
    [['tail', '--file', '--max-documents', 'ten'], "error: option '--max-documents <n>' argument 'ten' is invalid. must be a non-negative integer"],
    [['tail', '--rabbitmq', '--port', '70000'], 'error: invalid config: option `port` must be a whole number from 1 to 65535, got 70000'],
    [['tail', '--kafka', '--config', 'linger.ms'], "error: option '--config <key=value>' argument 'linger.ms' is invalid. must be key=value"],
    [['replay', 'x.jsonl'], "error: required option '--to <transport>' not specified"],
    [['replay', 'x.jsonl', '--to', 'carrier-pigeon'], "error: option '--to <transport>' argument 'carrier-pigeon' is invalid. Allowed choices are kafka, rabbitmq, redis, http."],
    [['replay', '--to', 'redis'], "error: missing required argument 'path'"],
    [['replay', 'x.jsonl', '--to', 'redis', '--topic', 't'], "error: option '--topic' does not apply to the redis transport"],
  ]
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args)
    t.is(code, 2, args.join(' '))
    t.true(stderr.includes(message) || (args.length === 0 && stdout + stderr !== '' && (stdout + stderr).includes(message)), `${args.join(' ')}: ${stderr}`)
  }
})

// ---------------------------------------------------------------- tail: file

test('tail --file --from-beginning: the existing documents, one line per record, then exit at --max-documents', async (t) => {
  const { path } = await customFile()
  const { code, stdout, stderr } = await runCli(['tail', '--file', '--path', path, '--from-beginning', '--max-documents', '2'])
  t.is(code, 0, stderr)
  t.deepEqual(withoutTimes(t, stdout), CUSTOM_LINES)
  t.true(stderr.includes(`tail: reading file ${path}`))
  t.true(stderr.trim().endsWith('tail: 2 documents, 4 records'), stderr)
})

test('tail: every drift kind of both formats, one exact line per record', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  const queues = await ScouterQueue.fromPath(knownSetProfiles, new FileConfig({ path }))
  const known = insertKnownSet(queues)
  await queues.shutdown()
  const { code, stdout, stderr } = await runCli(['tail', '--file', '--path', path, '--from-beginning', '--max-documents', String(KNOWN_SET_DOCUMENTS)])
  t.is(code, 0, stderr)
  const psi = 'psi scouter/psi_model/v0.1.0'
  t.deepEqual(
    withoutTimes(t, stdout),
    [
      ...CUSTOM_LINES,
      `genai uid:0197f3a0-0000-7000-8000-000000000004 record ${known.eval.uid} context {"input":"known","score":0.5}`,
      `llm scouter/llm_metrics/v0.0.1 record ${known.llm.uid} context {"input":"known","response":"set"}`,
      ...[[1, 1], [2, 2], [3, 0], [4, 0], [5, 0], [6, 0], [7, 0], [8, 0], [9, 0], [10, 1]].map(([bin, count]) => `${psi} feature_0 bin ${bin} count ${count}`),
      `${psi} color bin 0 count 1`,
      `${psi} color bin 1 count 0`,
      `${psi} color bin 2 count 1`,
      'spc scouter/spc_model/v0.1.0 feature_0 = 3',
      'spc scouter/spc_model/v0.1.0 feature_1 = -1',
    ].sort(),
  )
  t.true(stderr.trim().endsWith(`tail: ${KNOWN_SET_DOCUMENTS} documents, 21 records`), stderr)
})

test('tail --file follows the file from its end; --json prints each document as written', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  writeFileSync(path, '{"records":[{"Custom":{"created_at":"old","space":"s","name":"n","version":"1","metric":"old","value":0}}]}\n')
  const pretty = startCli(['tail', '--file', '--path', path, '--max-documents', '2'])
  const json = startCli(['tail', '--file', '--path', path, '--max-documents', '2', '--json'])
  await pretty.stderrHas('tail: reading')
  await json.stderrHas('tail: reading')
  await publishCustom(new FileConfig({ path }))
  const written = readFileSync(path, 'utf8').trim().split('\n').slice(1)
  const [prettyRun, jsonRun] = await Promise.all([pretty.result, json.result])
  t.is(prettyRun.code, 0, prettyRun.stderr)
  t.deepEqual(withoutTimes(t, prettyRun.stdout), CUSTOM_LINES)
  t.is(jsonRun.code, 0, jsonRun.stderr)
  t.deepEqual(jsonRun.stdout.trim().split('\n'), written)
  t.true(jsonRun.stderr.trim().endsWith('tail: 2 documents'), jsonRun.stderr)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`tail stops cleanly on ${signal}: exit 0 with its summary`, async (t) => {
    const path = join(tempDir(), 'records.jsonl')
    const running = startCli(['tail', '--file', '--path', path])
    await running.stderrHas('tail: reading')
    running.kill(signal)
    const { code, signal: killedBy, stderr } = await running.result
    t.is(killedBy, null)
    t.is(code, 0)
    t.true(stderr.trim().endsWith('tail: 0 documents, 0 records'), stderr)
  })
}

test('tail stops cleanly when the reader of its output goes away (| head)', async (t) => {
  const { path, lines } = await customFile()
  const running = startCli(['tail', '--file', '--path', path, '--from-beginning'])
  await running.stdoutLines(4)
  running.closeStdout()
  // The next document's lines find the pipe closed.
  writeFileSync(path, `${lines[0]}\n`, { flag: 'a' })
  const { code, signal, stderr } = await running.result
  t.is(signal, null)
  t.is(code, 0)
  t.regex(stderr, /tail: 3 documents, \d records\n$/)
  t.false(stderr.includes('EPIPE'))
})

test('tail: a file in a directory that does not exist fails with exit 1', async (t) => {
  const path = join(tempDir(), 'nope', 'records.jsonl')
  const { code, stderr } = await runCli(['tail', '--file', '--path', path])
  t.is(code, 1)
  t.is(stderr.trim(), `error tail: invalid config: cannot follow ${path}: its directory does not exist`)
})

test('tail: a line that is not a document is shown as such, not dropped', async (t) => {
  const path = join(tempDir(), 'records.jsonl')
  writeFileSync(path, 'not json\n{"records":[]}\n')
  const { code, stdout } = await runCli(['tail', '--file', '--path', path, '--from-beginning', '--max-documents', '2'])
  t.is(code, 0)
  t.deepEqual(stdout.split('\n'), ['? not a scouter document: not json', ''])
})

// ---------------------------------------------------------------- tail: brokers

test.serial('tail --kafka: what is produced after it starts; --from-beginning reads it again', async (t) => {
  const topic = uniqueName('scouter_cli')
  const admin = new Kafka({ clientId: 'scouter-queue-test', brokers: [BROKERS], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })
  await admin.disconnect()

  const running = startCli(['tail', '--kafka', '--brokers', BROKERS, '--topic', topic, '--max-documents', '2'])
  await running.stderrHas(`tail: reading kafka topic ${topic} at ${BROKERS}`)
  await publishCustom(new KafkaConfig({ brokers: BROKERS, topic }))
  const live = await running.result
  t.is(live.code, 0, live.stderr)
  t.deepEqual(withoutTimes(t, live.stdout), CUSTOM_LINES)

  const again = await runCli(['tail', '--kafka', '--brokers', BROKERS, '--topic', topic, '--from-beginning', '--max-documents', '2'])
  t.is(again.code, 0, again.stderr)
  t.deepEqual(withoutTimes(t, again.stdout), CUSTOM_LINES)

  const missing = await runCli(['tail', '--kafka', '--brokers', BROKERS, '--topic', uniqueName('scouter_absent')])
  t.is(missing.code, 1)
  t.regex(missing.stderr, /error tail: invalid config: Kafka topic `scouter_absent_\w+` does not exist/)

  // --config settings reach librdkafka as they are.
  const unknown = await runCli(['tail', '--kafka', '--brokers', BROKERS, '--topic', topic, '--config', 'no.such.setting=1'])
  t.is(unknown.code, 1)
  t.regex(unknown.stderr, /cannot create a Kafka consumer: .*No such configuration property: "no.such.setting"/)
})

test.serial('tail --rabbitmq: consumes the queue (the messages are gone afterwards)', async (t) => {
  const queue = uniqueName('scouter_cli')
  const running = startCli(['tail', '--rabbitmq', '--address', AMQP, '--queue', queue, '--max-documents', '2'])
  await running.stderrHas(`tail: reading rabbitmq queue ${queue} at amqp://guest:[redacted]@127.0.0.1:5672/%2f`)
  await publishCustom(new RabbitMQConfig({ address: AMQP, queue }))
  const { code, stdout, stderr } = await running.result
  t.is(code, 0, stderr)
  t.deepEqual(withoutTimes(t, stdout), CUSTOM_LINES)
  const connection = await amqp.connect(AMQP)
  try {
    const channel = await connection.createChannel()
    t.is((await channel.checkQueue(queue)).messageCount, 0)
    await channel.deleteQueue(queue)
  } finally {
    await connection.close()
  }
})

test.serial('tail --redis: subscribes to the channel; options not given come from the configs\' env vars', async (t) => {
  const channel = uniqueName('scouter_cli')
  const running = startCli(['tail', '--redis', '--address', REDIS, '--channel', channel, '--max-documents', '2', '--json'])
  const fromEnv = startCli(['tail', '--redis', '--max-documents', '2'], { env: { REDIS_ADDR: REDIS, REDIS_CHANNEL: channel } })
  await running.stderrHas(`tail: reading redis channel ${channel} at ${REDIS}`)
  await fromEnv.stderrHas(`tail: reading redis channel ${channel} at ${REDIS}`)
  await publishCustom(new RedisConfig({ address: REDIS, channel }))
  const envRun = await fromEnv.result
  t.is(envRun.code, 0, envRun.stderr)
  t.deepEqual(withoutTimes(t, envRun.stdout), CUSTOM_LINES)
  const { code, stdout, stderr } = await running.result
  t.is(code, 0, stderr)
  const documents = stdout.trim().split('\n').map((line) => JSON.parse(line) as { records: Array<Record<string, { metric: string; value: number }>> })
  const values = documents.flatMap((doc) => doc.records.map((record) => Object.values(record)[0]!)).map((r) => `${r.metric}=${r.value}`)
  t.deepEqual(values.sort(), ['mae=1.5', 'mae=1.5', 'mape=4', 'mape=4'])
})

// ---------------------------------------------------------------- replay: a JSON-lines file

const ALL_PUBLISHED = 'replay: 2 read, 2 published, 0 failed, 0 invalid, 4 records'

test.serial('replay FILE --to kafka: every line, byte for byte, and the accounting', async (t) => {
  const { path, lines } = await customFile()
  const topic = uniqueName('scouter_cli')
  const { code, stdout, stderr } = await runCli(['replay', path, '--to', 'kafka', '--brokers', BROKERS, '--topic', topic])
  t.is(code, 0, stderr)
  t.is(stdout, `${ALL_PUBLISHED}\n`)
  // stderr is a pipe here: the status line only, no progress bar.
  t.is(stderr, `replay: ${path} to kafka topic ${topic} at ${BROKERS}\n`)
  const kafka = new Kafka({ clientId: 'scouter-queue-test', brokers: [BROKERS], logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: uniqueName('scouter_test_group') })
  await consumer.connect()
  const seen: string[] = []
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString('utf8')) })
    await waitFor('2 messages', () => seen.length >= 2, 60_000)
  } finally {
    await consumer.disconnect()
  }
  t.deepEqual(sorted(seen), sorted(lines))
})

test.serial('replay FILE --to rabbitmq and --to redis', async (t) => {
  const { path, lines } = await customFile()
  const queue = uniqueName('scouter_cli')
  const rabbit = await runCli(['replay', path, '--to', 'rabbitmq', '--address', AMQP, '--queue', queue])
  t.is(rabbit.code, 0, rabbit.stderr)
  t.is(rabbit.stdout, `${ALL_PUBLISHED}\n`)
  const connection = await amqp.connect(AMQP)
  const taken: string[] = []
  try {
    const channel = await connection.createChannel()
    for (let message = await channel.get(queue, { noAck: true }); message !== false; message = await channel.get(queue, { noAck: true })) {
      taken.push(message.content.toString('utf8'))
    }
    await channel.deleteQueue(queue)
  } finally {
    await connection.close()
  }
  t.deepEqual(sorted(taken), sorted(lines))

  const channel = uniqueName('scouter_cli')
  const subscriber = createClient({ url: REDIS })
  await subscriber.connect()
  const heard: string[] = []
  await subscriber.subscribe(channel, (message) => void heard.push(message))
  try {
    const redis = await runCli(['replay', path, '--to', 'redis', '--address', REDIS, '--channel', channel])
    t.is(redis.code, 0, redis.stderr)
    t.is(redis.stdout, `${ALL_PUBLISHED}\n`)
    await waitFor('2 messages', () => heard.length >= 2)
  } finally {
    await subscriber.quit()
  }
  t.deepEqual(sorted(heard), sorted(lines))
})

test.serial('replay draws its progress bar when stderr is a terminal (run under a pseudo-terminal by script(1))', async (t) => {
  const { path } = await customFile()
  const channel = uniqueName('scouter_cli')
  // process.execPath: this Node (under qemu, the script that runs the arm64 Node), not a `node` on PATH.
  const command = [process.execPath, CLI, 'replay', path, '--to', 'redis', '--address', REDIS, '--channel', channel].map((arg) => `'${arg}'`).join(' ')
  // script(1) (util-linux) gives the command a terminal and copies what it wrote to our stdout.
  const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  t.is(code, 0, output)
  // The last drawing before the summary: the full bar at 100 %, then the line is cleared.
  const clearLine = `${String.fromCharCode(27)}[K`
  const fullBar = output.lastIndexOf(`\r${'█'.repeat(30)} 100% `)
  t.true(fullBar >= 0, output)
  t.true(output.indexOf(clearLine, fullBar) > fullBar, 'the bar line is cleared to its end')
  t.true(output.includes(`\r${clearLine}replay: 2 read, 2 published, 0 failed, 0 invalid, 4 records`), output)
})

test('replay FILE --to http: each format to its own path; invalid lines and refused documents exit 1', async (t) => {
  const server = await ScouterTestServer.start()
  t.teardown(() => server.close())
  const { path, lines } = await customFile()
  // The server from SCOUTER_SERVER_URI, as HttpConfig takes it.
  const ok = await runCli(['replay', path, '--to', 'http'], { env: { SCOUTER_SERVER_URI: server.uri } })
  t.is(ok.code, 0, ok.stderr)
  t.is(ok.stdout, `${ALL_PUBLISHED}\n`)
  t.deepEqual(server.rawDocuments('v0.9'), lines.filter((line) => line.includes('"space"')))
  t.deepEqual(server.rawDocuments('v0.25'), lines.filter((line) => line.includes(`"uid":"${UID}"`)))

  const mixed = join(tempDir(), 'mixed.jsonl')
  writeFileSync(mixed, `${lines[0]}\nthis is not json\n\n${lines[1]}\n`)
  server.failNext({ status: 400 })
  const bad = await runCli(['replay', mixed, '--to', 'http', '--server-uri', server.uri, '--max-retries', '0'])
  t.is(bad.code, 1)
  t.is(bad.stdout, 'replay: 3 read, 1 published, 1 failed, 1 invalid, 2 records\n')
  t.regex(bad.stderr, /warn line 2: not JSON/)
  t.regex(bad.stderr, /warn line (1|4): http transport: .*400/)
})

test('replay stops between steps on SIGINT: what was read is accounted, exit 1 as not everything was replayed', async (t) => {
  const server = await ScouterTestServer.start()
  t.teardown(() => server.close())
  server.setResponseDelayMs(300)
  const { lines } = await customFile()
  const path = join(tempDir(), 'many.jsonl')
  writeFileSync(path, `${lines[0]}\n`.repeat(1000))
  const running = startCli(['replay', path, '--to', 'http', '--server-uri', server.uri])
  await running.stderrHas('replay: ')
  await waitFor('the first publishes', () => server.rawDocuments().length > 0)
  running.kill('SIGINT')
  const { code, stdout } = await running.result
  t.is(code, 1)
  const match = /^replay: (\d+) read, (\d+) published, 0 failed, 0 invalid, (\d+) records \(stopped before the end\)\n$/.exec(stdout)
  t.truthy(match, stdout)
  const [read, published, records] = match!.slice(1).map(Number) as [number, number, number]
  t.is(read % 64, 0)
  t.true(read < 1000)
  t.is(published, read)
  t.is(records, 2 * read)
  t.is(server.rawDocuments().length, published)
})

test('replay: a missing file, --consume on a file, an unreachable transport: exit 1 with the reason', async (t) => {
  const missing = join(tempDir(), 'absent.jsonl')
  const gone = await runCli(['replay', missing, '--to', 'redis'])
  t.is(gone.code, 1)
  t.regex(gone.stderr, new RegExp(`error replay: invalid config: cannot read ${missing}: No such file`))
  const { path } = await customFile()
  const consume = await runCli(['replay', path, '--to', 'redis', '--consume'])
  t.is(consume.code, 1)
  t.regex(consume.stderr, /`consume` applies to a spool directory only/)
  const unreachable = await runCli(['replay', path, '--to', 'redis', '--address', 'redis://127.0.0.1:1'])
  t.is(unreachable.code, 1)
  t.regex(unreachable.stderr, /error replay: invalid config: could not connect the redis transport/)
})

// ---------------------------------------------------------------- replay: a spool directory

/**
 * Leaves `count` documents in `spoolDir`: a child process spools one LLM record per document
 * (each context `{ n }`) while a server refuses every publish, and is killed with SIGKILL once
 * all are spooled.
 */
async function spoolLeftBehind(spoolDir: string, count: number): Promise<void> {
  const refusing = await ScouterTestServer.start()
  for (let i = 0; i < 10_000; i++) refusing.failNext({ status: 503 })
  const script = `
    const lib = require(${JSON.stringify(join(__dirname, '..', 'ts', 'index.ts'))})
    ;(async () => {
      const queues = await lib.ScouterQueue.fromPath({ llm: ${JSON.stringify(profiles.llm)} },
        new lib.HttpConfig({ serverUri: ${JSON.stringify(refusing.uri)}, timeoutMs: 1000, maxRetries: 0 }),
        { spoolDir: ${JSON.stringify(spoolDir)}, spoolSync: 'always', onError: () => {} })
      for (let n = 0; n < ${count}; n++) queues.get('llm').insert(new lib.LLMRecord({ context: { n } }))
      setInterval(() => console.log(queues.stats().llm.spooledDocuments), 20)
    })()`
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import=tsx', '-e', script], { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        if (chunk.split('\n').includes(String(count))) child.kill('SIGKILL')
      })
      child.on('error', reject)
      child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error('the spooling child ended by itself'))))
    })
  } finally {
    await refusing.close()
  }
}

const numbers = (server: ScouterTestServer): number[] =>
  server
    .documents('v0.9')
    .flatMap((doc) => doc.records)
    .map((record) => (JSON.parse(JSON.stringify(record)) as { LLMDrift: { record: { context: { n: number } } } }).LLMDrift.record.context.n)
    .sort((a, b) => a - b)

test('replay SPOOL_DIR: the unacknowledged frames are published; kept unless --consume', async (t) => {
  const spoolDir = tempDir()
  await spoolLeftBehind(spoolDir, 5)
  const server = await ScouterTestServer.start()
  t.teardown(() => server.close())
  const summary = 'replay: 5 read, 5 published, 0 failed, 0 invalid, 5 records\n'

  const copy = await runCli(['replay', spoolDir, '--to', 'http', '--server-uri', server.uri])
  t.is(copy.code, 0, copy.stderr)
  t.is(copy.stdout, summary)
  t.deepEqual(numbers(server), [0, 1, 2, 3, 4])

  const consumed = await runCli(['replay', spoolDir, '--to', 'http', '--server-uri', server.uri, '--consume'])
  t.is(consumed.code, 0, consumed.stderr)
  t.is(consumed.stdout, summary)
  t.deepEqual(numbers(server), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])

  const empty = await runCli(['replay', spoolDir, '--to', 'http', '--server-uri', server.uri])
  t.is(empty.code, 0, empty.stderr)
  t.is(empty.stdout, 'replay: 0 read, 0 published, 0 failed, 0 invalid, 0 records\n')
})

test('replay SPOOL_DIR: refused while a live process holds the spool', async (t) => {
  const spoolDir = tempDir()
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, new MockConfig(), { spoolDir })
  try {
    const { code, stderr } = await runCli(['replay', spoolDir, '--to', 'redis'])
    t.is(code, 1)
    t.regex(stderr, /already in use by another live ScouterQueue \(process \d+\)/)
  } finally {
    await queues.shutdown()
  }
})
