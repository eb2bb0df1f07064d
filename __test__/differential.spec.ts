/**
 * The differential test: the same inputs through the real Python client (`scouter-ml` 0.9.0 for
 * the v0.9 wire format, 0.25.0 for the current one; `scripts/python-clients.sh` installs them)
 * and through ours, compared record by record.
 *
 * Transports. Neither Python release can write records to a file: their `MockConfig` only logs a
 * Debug dump. So the original publishes to the local Redis (`scripts/services.sh` starts it;
 * the document text is the `serde_json::to_string` a Kafka or RabbitMQ consumer receives too)
 * and, over HTTP, to the in-repo Scouter test server, which rotates the token on every publish
 * (`Authorization: Bearer <new>` in each reply; the old token then gets 401). Ours publishes the
 * same inputs over the File transport (compared with the original's Redis documents, field order
 * included) and over HTTP to a test server of its own (field order not compared: the original
 * sends an HTTP body through `serde_json::Value`, whose keys come out sorted).
 *
 * What is compared, per queue: the number of documents and, document by document (in publish
 * order over Redis and File; paired by content over HTTP, where ours overlaps its POSTs and
 * resends one refused with 401 later), the records as a multiset keyed by (kind, feature or
 * metric, bin id), or by the context's `n` for LLM and GenAI records: the original builds the
 * records of a document from hash maps, so their order is not defined and is not compared. Per
 * record: the field names, values (numbers within 1e-9, and integers written as integers:
 * `bin_id`, `bin_count`, `id`, `entity_id`, `retry_count`), identity (space/name/version for
 * v0.9; uid and entity_id for 0.25), LLM prompt and context and GenAI context (as JSON values:
 * the original writes their keys sorted), GenAI record_id, session_id, tags and trace_id; the
 * fields each client makes on its own by format only: `created_at` (RFC 3339 UTC), the record
 * uids (UUIDv7), and a session id the caller did not give (UUIDv7). Each client is also checked
 * against an oracle computed from the inputs and the profile.
 *
 * Inputs: deterministic; several documents per queue (SPC 75 rows of sample size 25, PSI 2345
 * rows = 2 full batches of 1000 + one published at shutdown, Custom 60 sets = 2 x 25 + 10, GenAI
 * 60 = 2 x 25 + 10, LLM 6 at one per document); categorical features through the feature map
 * (and its `missing` code), missing features and metrics, unknown ones, ints and floats, +inf in
 * PSI (and for 0.25, NaN and -inf: the original 0.25 skips every non-finite value of a numeric
 * PSI feature, where v0.9 bins +inf last and loses the batch on NaN or -inf). Only what both
 * clients define alike otherwise: see `helpers/differential.ts` for what each input leaves out
 * and why. Where the original v0.9 loses data, the difference is pinned by a test of its own
 * ("departure"), on both sides:
 * - SPC: the original drops the rows of a short last batch at shutdown, ours publishes their
 *   mean. The main SPC inputs are a multiple of `sample_size` (25) so that both publish the same.
 * - PSI: one NaN makes the original lose its whole batch; ours drops that value only.
 * - Custom: a NaN makes the original send a `null` mean (refused by the server); ours leaves it out.
 *
 * Speed: one Python process per version runs every case, both versions at once: 0.9.0 sleeps 1 s
 * per profile when it starts and 0.5 s per queue when it shuts down, so its process takes about
 * 19 s (0.25.0: about 7 s). Ours runs after them, in about a second; the file takes about 22 s.
 *
 * The 0.25 comparisons with ours need the 0.25 core (profiles with `config.uid`, `EvalRecord`):
 * until it is merged they fail with "0.25 support missing". The original's 0.25 side is checked
 * against the oracle here regardless.
 */
import test, { type ExecutionContext } from 'ava'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from 'redis'

import { FileConfig, HttpConfig } from '../ts/index'
import {
  checkAgainstOracle,
  compareClients,
  customInserts,
  documentsOf,
  expectedDocuments,
  fileDocuments,
  genaiInserts,
  identityOf,
  llmInserts,
  PROFILES,
  psiInserts,
  readDocument,
  RECORD_KIND,
  runOurs,
  spcInserts,
  traceIdOf,
  type Format,
  type Kind,
} from './helpers/differential'
import { runPythonClient, type InsertSpec, type PythonClientVersion, type RunSpec } from './helpers/python-clients'
import { PUBLISH_PATHS, ScouterTestServer, WIRE_FIELDS } from './helpers/scouter-server'

const REDIS = 'redis://127.0.0.1:6379'
const CREDENTIALS = { username: 'differential', password: 'not-admin' }
const VERSION: Record<Format, PythonClientVersion> = { 'v0.9': '0.9.0', 'v0.25': '0.25.0' }
const KINDS: Record<Format, Kind[]> = {
  'v0.9': ['spc', 'psi', 'custom', 'llm'],
  'v0.25': ['spc', 'psi', 'custom', 'genai'],
}
const KIND_NAME: Record<Kind, string> = { spc: 'SPC', psi: 'PSI', custom: 'Custom', llm: 'LLM', genai: 'GenAI' }

/** The main inputs of each queue kind (the alias is the kind). */
function inserts(kind: Kind, format: Format): InsertSpec[] {
  switch (kind) {
    case 'spc':
      return spcInserts('spc', 75)
    case 'psi':
      return psiInserts('psi', 2345, 2, format === 'v0.25')
    case 'custom':
      return customInserts('custom', 60)
    case 'llm':
      return llmInserts('llm', 6)
    case 'genai':
      return genaiInserts('genai', 60)
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'scouter-differential-'))

/** A copy of a fixture with another identity (name, and uid for 0.25), for a case of its own. */
function renamedProfile(path: string, name: string, uid?: string): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as { config: Record<string, unknown> }
  profile.config['name'] = name
  if (uid !== undefined) profile.config['uid'] = uid
  const copy = join(scratch, `${name}.json`)
  writeFileSync(copy, JSON.stringify(profile))
  return copy
}

// The departure cases (v0.9, over Redis only: the original's NaN document would be refused over HTTP).
const DEPARTURES = {
  spc_tail: {
    profile: renamedProfile(PROFILES['v0.9'].spc, 'spc_tail'),
    inserts: spcInserts('spc_tail', 30, 7),
  },
  psi_nan: {
    profile: renamedProfile(PROFILES['v0.9'].psi, 'psi_nan'),
    inserts: psiInserts('psi_nan', 40, 8).map((insert, i): InsertSpec =>
      i === 20 ? { alias: 'psi_nan', features: [{ name: 'feature_0', type: 'float', value: 'NaN' }] } : insert,
    ),
  },
  custom_nan: {
    profile: renamedProfile(PROFILES['v0.9'].custom, 'custom_nan'),
    inserts: [1, 'NaN' as const, 2].map((value): InsertSpec => ({
      alias: 'custom_nan',
      metrics: [{ name: 'mae', value }],
    })),
  },
}

// A 0.25 case of its own: trace ids given in upper case (the server takes either case).
const UPPER_TRACE = {
  profile: renamedProfile(PROFILES['v0.25'].genai, 'genai_upper', '0197f3a0-0000-7000-8000-0000000000aa'),
  inserts: [0, 1, 2].map((n): InsertSpec => ({
    alias: 'genai_upper',
    eval: { context: { n }, trace_id: traceIdOf(n + 100).toUpperCase() },
  })),
}

// ---------------------------------------------------------------------------------------------
// The original: one Python process per version runs everything, once for the whole file.

interface TheirSide {
  redis: string[]
  http: string[]
  server: ScouterTestServer
  seconds: number
  runs: Awaited<ReturnType<typeof runPythonClient>>['runs']
}

/** Subscribes to a new channel (Redis keeps nothing: before the publisher starts). */
async function subscribe(channel: string): Promise<{ messages: string[]; close: () => Promise<void> }> {
  const client = createClient({ url: REDIS })
  client.on('error', () => {})
  await client.connect()
  const messages: string[] = []
  await client.subscribe(channel, (message) => messages.push(message))
  return { messages, close: async () => void (await client.quit()) }
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
}

const servers: ScouterTestServer[] = []
test.after.always(async () => {
  await Promise.all(servers.map((server) => server.close()))
})

async function startServer(): Promise<ScouterTestServer> {
  const server = await ScouterTestServer.start(CREDENTIALS)
  servers.push(server)
  server.rotateTokensOnEveryPost(true)
  return server
}

async function runTheirs(format: Format): Promise<TheirSide> {
  const version = VERSION[format]
  const channel = `scouter_differential_${format.replace('.', '')}_${process.pid}_${Date.now()}`
  const subscriber = await subscribe(channel)
  const server = await startServer()
  try {
    const profiles: Record<string, string> = { ...PROFILES[format] }
    const all = KINDS[format].flatMap((kind) => inserts(kind, format))
    const extra: Record<string, { profile: string; inserts: InsertSpec[] }> =
      format === 'v0.9' ? DEPARTURES : { genai_upper: UPPER_TRACE }
    const runs: RunSpec[] = [
      {
        name: 'redis',
        transport: { kind: 'redis', address: REDIS, channel },
        profiles: { ...profiles, ...Object.fromEntries(Object.entries(extra).map(([alias, c]) => [alias, c.profile])) },
        inserts: [...all, ...Object.values(extra).flatMap((c) => c.inserts)],
      },
      {
        name: 'http',
        transport: { kind: 'http', server_uri: server.uri, ...CREDENTIALS },
        profiles,
        inserts: all,
      },
    ]
    const result = await runPythonClient(version, runs)
    // Every PUBLISH was answered before Python exited; the subscriber's copies may still be on the way.
    let expected = KINDS[format].reduce(
      (n, kind) =>
        n +
        expectedDocuments(kind, PROFILES[format][kind as never], inserts(kind, format), originalRules(format)).length,
      0,
    )
    // The cases of their own: spc_tail 1 document (its last 5 rows are dropped), psi_nan none,
    // custom_nan 1; genai_upper 1.
    expected += format === 'v0.9' ? 1 + 0 + 1 : 1
    await waitUntil(() => subscriber.messages.length >= expected, 10_000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    return {
      redis: [...subscriber.messages],
      http: server.rawDocuments(format),
      server,
      seconds: result.seconds,
      runs: result.runs,
    }
  } finally {
    await subscriber.close()
  }
}

/** How the original's documents differ from ours by design: see the departures below. */
function originalRules(format: Format): { partialSpc: boolean; skipNonFinitePsi: boolean } {
  return { partialSpc: false, skipNonFinitePsi: format === 'v0.25' }
}

const theirs: Partial<Record<Format, Promise<TheirSide>>> = {}
function theirSide(format: Format): Promise<TheirSide> {
  return (theirs[format] ??= runTheirs(format))
}

// ---------------------------------------------------------------------------------------------
// Ours: one queue per case and transport, run when a test first needs it.

interface OurSide {
  documents: string[]
  stats: Awaited<ReturnType<typeof runOurs>>
  server?: ScouterTestServer
}

const ours = new Map<string, Promise<OurSide>>()
function ourSide(
  format: Format,
  transport: 'file' | 'http',
  alias: string,
  profile: string,
  cases: InsertSpec[],
): Promise<OurSide> {
  const key = `${format} ${transport} ${alias}`
  let side = ours.get(key)
  if (side === undefined) {
    side = (async (): Promise<OurSide> => {
      // Ours runs once the originals are done: the test servers they publish to live in this
      // process, and the original 0.9.0 gives a publish at shutdown only 250 ms (then aborts it).
      await Promise.allSettled([theirSide('v0.9'), theirSide('v0.25')])
      if (transport === 'file') {
        const path = join(scratch, `ours-${format}-${alias}.jsonl`)
        const stats = await runOurs({ [alias]: profile }, cases, new FileConfig({ path }))
        return { documents: fileDocuments(path), stats }
      }
      const server = await startServer()
      const stats = await runOurs(
        { [alias]: profile },
        cases,
        new HttpConfig({ serverUri: server.uri, ...CREDENTIALS }),
      )
      return { documents: server.rawDocuments(format), stats, server }
    })().catch((error: Error) => {
      if (format === 'v0.9' || error.message.startsWith('0.25 support missing')) throw error
      throw new Error(`0.25 support missing? ours could not run a 0.25 case: ${error.message}`)
    })
    ours.set(key, side)
  }
  return side
}

/** Fails clearly when our documents are not in the 0.25 format (the 0.25 core is not merged). */
function require025(t: ExecutionContext, format: Format, side: OurSide): void {
  if (format !== 'v0.25') return
  if (side.server !== undefined) {
    const drift = side.server.rawDocuments('v0.9').length
    if (side.documents.length === 0 && drift > 0) {
      t.fail(`0.25 support missing: ours published ${drift} v0.9 documents to /scouter/drift, none to /scouter/message`)
    }
  }
  const v09 = side.documents.flatMap(readDocument).filter((r) => 'space' in r.fields && !('uid' in r.fields))
  if (v09.length > 0)
    t.fail(`0.25 support missing: ours wrote v0.9 records (space/name/version, no uid) for a 0.25 profile`)
}

function report(t: ExecutionContext, what: string, diffs: string[]): void {
  const shown = diffs.slice(0, 40)
  if (diffs.length > shown.length) shown.push(`... and ${diffs.length - shown.length} more`)
  t.deepEqual(shown, [], what)
}

// ---------------------------------------------------------------------------------------------
// The tests

for (const format of ['v0.9', 'v0.25'] as const) {
  const version = VERSION[format]

  test(`${format}: the original (scouter-ml ${version}) ran every case; the test server accepted all it POSTed`, async (t) => {
    const side = await theirSide(format)
    t.log(
      `scouter-ml ${version}: ${side.seconds.toFixed(1)} s for ${side.runs.length} runs: ${JSON.stringify(side.runs)}`,
    )
    const posts = side.server.requests.filter((r) => r.method === 'POST')
    t.true(posts.length > 0)
    t.deepEqual(
      [...new Set(posts.map((r) => `${r.path} ${r.status}`))],
      [`${PUBLISH_PATHS[format]} 200`],
      'every publish went to the path of its format and was accepted',
    )
    t.is(side.server.logins(), KINDS[format].length, 'the original logs in once per queue')
    // It takes the rotated token: the server revokes the old one, so a client that kept it would get 401.
    t.true(posts.every((r) => r.responseHeaders['authorization'] !== undefined))
  })

  for (const kind of KINDS[format]) {
    const profile = PROFILES[format][kind as never] as string
    const identity = identityOf(format, profile)
    const name = `${format} ${KIND_NAME[kind]}`

    test(`${name}: the original's documents (Redis and HTTP) hold what the oracle computes, fields in its order`, async (t) => {
      const side = await theirSide(format)
      const expected = expectedDocuments(kind, profile, inserts(kind, format), originalRules(format))
      const redis = documentsOf(side.redis, identity)
      const http = documentsOf(side.http, identity)
      report(t, 'over Redis', checkAgainstOracle(kind, identity, redis, expected))
      report(t, 'over HTTP', checkAgainstOracle(kind, identity, http, expected))
      // Declaration order to a broker; sorted over HTTP (the body goes through serde_json::Value).
      const declared = WIRE_FIELDS[format][RECORD_KIND[format][kind]!]!
      for (const record of redis.flatMap(readDocument)) t.deepEqual(record.order, [...declared])
      for (const record of http.flatMap(readDocument)) t.deepEqual(record.order, [...declared].sort())
      // A check of the comparison itself: two runs of the original must not differ.
      report(t, 'the original over Redis vs over HTTP', compareClients(redis, http, { sameOrder: false }))
    })

    test(`${name} over File: ours = the original (its Redis documents), record by record`, async (t) => {
      const [side, mine] = await Promise.all([
        theirSide(format),
        ourSide(format, 'file', kind, profile, inserts(kind, format)),
      ])
      require025(t, format, mine)
      report(
        t,
        'ours vs the original',
        compareClients(documentsOf(side.redis, identity), mine.documents, { sameOrder: true }),
      )
      t.like(mine.stats[kind], { failed: 0, dropped: 0, pending: 0 })
    })

    test(`${name} over HTTP: ours = the original (test server, token rotated on every publish), record by record`, async (t) => {
      const [side, mine] = await Promise.all([
        theirSide(format),
        ourSide(format, 'http', kind, profile, inserts(kind, format)),
      ])
      require025(t, format, mine)
      // Document order is not compared over HTTP: ours overlaps its POSTs, and one resent after a 401 arrives later.
      const diffs = compareClients(documentsOf(side.http, identity), mine.documents, {
        sameOrder: false,
        documentOrder: 'any',
      })
      report(t, 'ours vs the original', diffs)
      t.like(mine.stats[kind], { failed: 0, pending: 0 })
      const refused = mine.server!.requests.filter((r) => r.method === 'POST' && r.status === 401).length
      t.log(
        `ours: ${mine.server!.logins()} login(s), ${refused} POST(s) refused with 401 (sent with a token rotated meanwhile) ` +
          `then resent; the original: one login per queue, no 401`,
      )
    })
  }
}

// ---------------------------------------------------------------------------------------------
// Departures: where the original loses data and ours does not, pinned on both sides.

test('departure, SPC: the original drops a short last batch at shutdown; ours publishes its mean', async (t) => {
  const { profile, inserts: cases } = DEPARTURES.spc_tail
  const identity = identityOf('v0.9', profile)
  const [side, mine] = await Promise.all([theirSide('v0.9'), ourSide('v0.9', 'file', 'spc_tail', profile, cases)])
  const original = documentsOf(side.redis, identity)
  report(
    t,
    'the original: the 25 rows, not the last 5',
    checkAgainstOracle('spc', identity, original, expectedDocuments('spc', profile, cases, { partialSpc: false })),
  )
  report(
    t,
    'ours: both batches',
    checkAgainstOracle('spc', identity, mine.documents, expectedDocuments('spc', profile, cases, { partialSpc: true })),
  )
  report(t, 'the first document alike', compareClients(original, mine.documents.slice(0, 1), { sameOrder: true }))
})

test('departure, PSI: a NaN makes the original lose its whole batch; ours drops that value only', async (t) => {
  const { profile, inserts: cases } = DEPARTURES.psi_nan
  const identity = identityOf('v0.9', profile)
  const [side, mine] = await Promise.all([theirSide('v0.9'), ourSide('v0.9', 'file', 'psi_nan', profile, cases)])
  t.deepEqual(documentsOf(side.redis, identity), [], 'the original published nothing for the batch')
  const withoutNan = cases.filter((_, i) => i !== 20)
  report(
    t,
    'ours: every other value',
    checkAgainstOracle('psi', identity, mine.documents, expectedDocuments('psi', profile, withoutNan)),
  )
  t.like(mine.stats['psi_nan'], { droppedValues: 1, failed: 0 })
})

test('departure, Custom: a NaN makes the original send a null mean; ours leaves the value out', async (t) => {
  const { profile, inserts: cases } = DEPARTURES.custom_nan
  const identity = identityOf('v0.9', profile)
  const [side, mine] = await Promise.all([theirSide('v0.9'), ourSide('v0.9', 'file', 'custom_nan', profile, cases)])
  const original = documentsOf(side.redis, identity).flatMap(readDocument)
  t.deepEqual(
    original.map((r) => [r.key, r.fields['value']]),
    [['mae', null]],
    'the original: NaN, written as null',
  )
  t.deepEqual(
    mine.documents.flatMap(readDocument).map((r) => [r.key, r.fields['value']]),
    [['mae', 1.5]],
  )
  t.like(mine.stats['custom_nan'], { droppedValues: 1, failed: 0 })
})

test('v0.25 GenAI: the original sends trace ids given in upper case in lower case', async (t) => {
  const { profile, inserts: cases } = UPPER_TRACE
  const identity = identityOf('v0.25', profile)
  const original = documentsOf((await theirSide('v0.25')).redis, identity)
  report(t, 'the original', checkAgainstOracle('genai', identity, original, expectedDocuments('genai', profile, cases)))
})

test('v0.25 GenAI: ours sends trace ids given in upper case in lower case, as the original', async (t) => {
  const { profile, inserts: cases } = UPPER_TRACE
  const identity = identityOf('v0.25', profile)
  const [side, mine] = await Promise.all([theirSide('v0.25'), ourSide('v0.25', 'file', 'genai_upper', profile, cases)])
  require025(t, 'v0.25', mine)
  report(
    t,
    'ours vs the original',
    compareClients(documentsOf(side.redis, identity), mine.documents, { sameOrder: true }),
  )
})
