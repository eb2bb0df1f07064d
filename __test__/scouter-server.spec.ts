/**
 * Proves that the test Scouter server (`helpers/scouter-server.ts`) is faithful to the contract
 * (sections 4 and 5): it logs in, enforces tokens, and accepts exactly the documents the real
 * server accepts. Only then does a transport test against it mean something. Plain `fetch`,
 * no client code of this package.
 */
import test, { type ExecutionContext } from 'ava'
import { connect } from 'node:net'

import { faults, ScouterTestServer, type ScouterTestServerOptions } from './helpers/scouter-server'
import { scaled } from './helpers/slowdown'

const CREATED_AT = '2025-08-25T12:00:00.123456Z'
const UID_V7 = '0198e1c2-7a3b-7c4d-8e5f-0123456789ab'

type Fields = Record<string, unknown>
const base = (name: string): Fields => ({ created_at: CREATED_AT, space: 'scouter', name, version: '0.1.0' })

// One valid record of each kind, as in section 4's example; `over` replaces or adds fields.
const spc = (over: Fields = {}) => ({ Spc: { ...base('spc_model'), feature: 'feature_0', value: 5.02, ...over } })
const psi = (over: Fields = {}) => ({
  Psi: { ...base('psi_model'), feature: 'feature_0', bin_id: 3, bin_count: 17, ...over },
})
const custom = (over: Fields = {}) => ({ Custom: { ...base('custom_model'), metric: 'mae', value: 1.2, ...over } })
const llmFields = (over: Fields = {}): Fields => ({
  ...base('llm_metrics'),
  version: '0.0.1',
  prompt: null,
  context: { input: 'hi', response: 'hello' },
  status: 'Pending',
  id: 0,
  uid: UID_V7,
  score: null,
  updated_at: null,
  processing_started_at: null,
  processing_ended_at: null,
  processing_duration: null,
  ...over,
})
const llm = (over: Fields = {}) => ({ LLMDrift: { record: llmFields(over) } })

const doc = (...records: unknown[]): string => JSON.stringify({ records })

/** `fields` without `key`. */
function without(fields: Fields, key: string): Fields {
  const { [key]: _dropped, ...rest } = fields
  return rest
}

/** `fetch`, whose bare "fetch failed" also names its cause (a refused or reset connection, a time-out). */
async function request(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init)
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause
    throw new Error(`${init?.method ?? 'GET'} ${url}: ${String(error)}${cause === undefined ? '' : ` (${String(cause)})`}`, { cause: error })
  }
}

/** A started server, closed when the test ends. */
async function started(t: ExecutionContext, options?: ScouterTestServerOptions): Promise<ScouterTestServer> {
  const server = await ScouterTestServer.start(options)
  t.teardown(() => server.close())
  return server
}

async function login(server: ScouterTestServer, username = 'admin', password = 'admin'): Promise<Response> {
  return request(`${server.uri}/scouter/auth/login`, { headers: { Username: username, Password: password } })
}

async function token(server: ScouterTestServer): Promise<string> {
  const response = await login(server)
  const { token } = (await response.json()) as { token: string }
  return token
}

interface Answer {
  status: number
  headers: Headers
  body: { status?: string; message?: string }
}

async function post(
  server: ScouterTestServer,
  body: string | Uint8Array,
  options: { token?: string | null; contentType?: string | null; path?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (options.token != null) headers['Authorization'] = `Bearer ${options.token}`
  if (options.contentType !== null) headers['Content-Type'] = options.contentType ?? 'application/json'
  const response = await request(`${server.uri}${options.path ?? '/scouter/drift'}`, { method: 'POST', headers, body })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? {} : (JSON.parse(text) as Answer['body']),
  }
}

/** Logs in, then posts `body`. */
async function publish(server: ScouterTestServer, body: string): Promise<Answer> {
  return post(server, body, { token: await token(server) })
}

// ---------------------------------------------------------------------------------------------
// Login and tokens

test('login: matching Username/Password headers get 200 {"token"} as JSON', async (t) => {
  const server = await started(t, { username: 'alice', password: 's3cret' })
  const response = await login(server, 'alice', 's3cret')
  t.is(response.status, 200)
  t.is(response.headers.get('content-type'), 'application/json')
  const body = (await response.json()) as { token: unknown }
  t.deepEqual(Object.keys(body), ['token'])
  t.true(typeof body.token === 'string' && body.token.length >= 16)
  t.is(server.logins(), 1)
  t.is((await login(server)).status, 401, 'the default admin/admin is not accepted when overridden')
  t.is(server.logins(), 1)
})

test('login: wrong or missing credentials get 401', async (t) => {
  const server = await started(t)
  t.is((await login(server, 'admin', 'wrong')).status, 401)
  t.is((await login(server, 'root', 'admin')).status, 401)
  t.is((await request(`${server.uri}/scouter/auth/login`)).status, 401)
  t.is(server.logins(), 0)
  t.is((await login(server)).status, 200, 'defaults are admin/admin')
  t.is(server.logins(), 1)
})

test('publish: no token, a malformed header or an unknown token get 401 and store nothing', async (t) => {
  const server = await started(t)
  const attempts: Array<Record<string, string>> = [
    {},
    { Authorization: 'Basic YWRtaW46YWRtaW4=' },
    { Authorization: 'Bearer x' },
  ]
  for (const headers of attempts) {
    const response = await request(`${server.uri}/scouter/drift`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: doc(spc()),
    })
    t.is(response.status, 401)
    t.like(await response.json(), { status: 'error' })
  }
  t.is(server.documents().length, 0)
})

test('publish: a token past tokenTtlMs gets 401; a new login works again', async (t) => {
  // A TTL a loaded machine cannot overrun between a login and the POST that follows it.
  const server = await started(t, { tokenTtlMs: scaled(400) })
  const old = await token(server)
  await new Promise((resolve) => setTimeout(resolve, scaled(500)))
  t.is((await post(server, doc(spc()), { token: old })).status, 401)
  t.is((await publish(server, doc(spc()))).status, 200)
  t.is(server.logins(), 2)
  t.is(server.documents().length, 1)
})

test('publish: expireTokens() invalidates every token issued so far', async (t) => {
  const server = await started(t)
  const [a, b] = [await token(server), await token(server)]
  t.is((await post(server, doc(spc()), { token: a })).status, 200)
  server.expireTokens()
  t.is((await post(server, doc(spc()), { token: a })).status, 401)
  t.is((await post(server, doc(spc()), { token: b })).status, 401)
  t.is((await publish(server, doc(spc()))).status, 200)
  t.is(server.documents().length, 2)
})

test('publish: issueToken() gives a token usable without a login', async (t) => {
  const server = await started(t)
  t.is((await post(server, doc(spc()), { token: server.issueToken() })).status, 200)
  t.is(server.logins(), 0)
})

test('publish: a content type other than application/json gets 415', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  t.is((await post(server, doc(spc()), { token: tok, contentType: 'text/plain' })).status, 415)
  t.is((await post(server, doc(spc()), { token: tok, contentType: 'application/x-www-form-urlencoded' })).status, 415)
  t.is((await post(server, new TextEncoder().encode(doc(spc())), { token: tok, contentType: null })).status, 415)
  t.is(server.documents().length, 0)
  t.is((await post(server, doc(spc()), { token: tok, contentType: 'application/json; charset=utf-8' })).status, 200)
  t.is(server.documents().length, 1)
})

// ---------------------------------------------------------------------------------------------
// Valid documents

for (const [kind, build] of [
  ['Spc', spc],
  ['Psi', psi],
  ['Custom', custom],
  ['LLMDrift', llm],
] as const) {
  test(`publish: a valid ${kind} document is answered {"status":"success"} and stored verbatim`, async (t) => {
    const server = await started(t)
    const body = doc(build(), build())
    const answer = await publish(server, body)
    t.is(answer.status, 200)
    t.is(answer.body.status, 'success')
    t.is(typeof answer.body.message, 'string')
    t.deepEqual(server.rawDocuments(), [body])
    t.deepEqual(server.documents(), [JSON.parse(body)])
  })
}

test('publish: the accepted edge cases (fraction digits, whitespace, zero, any prompt, float-looking keys inside context)', async (t) => {
  const server = await started(t)
  const bodies = [
    doc(spc({ created_at: '2025-08-25T12:00:00Z' }), spc({ created_at: '2024-02-29T23:59:59.123456789Z' })),
    doc(psi({ bin_id: 0, bin_count: 0 })),
    JSON.stringify({ records: [psi()] }, null, 2), // pretty-printed: `"bin_id": 3`
    doc(custom({ metric: 'mae_2', value: -1e-3 })),
    doc(llm({ prompt: { role: 'user', parts: [1, 2.5] } }), llm({ prompt: 'p' })),
    // Only the record's own `id` must be an integer: the same key inside `context` is free.
    doc(llm({ context: { id: 1.5, bin_id: 3.0, nested: { bin_count: -1 } } })).replace('"bin_id":3', '"bin_id":3.0'),
  ]
  for (const body of bodies) t.is((await publish(server, body)).status, 200, body)
  t.is(server.documents().length, bodies.length)
  t.regex(server.rawDocuments()[5]!, /"context":\{"id":1\.5,"bin_id":3\.0,/)
})

// ---------------------------------------------------------------------------------------------
// Invalid documents: one test per rule, exact status, a message naming the problem, nothing stored

const invalid: Array<[rule: string, body: string, status: number, message: RegExp]> = [
  ['body not JSON', '{"records":[', 400, /not JSON/],
  ['trailing text after the JSON', `${doc(spc())} x`, 400, /trailing/],
  ['NaN written literally', doc(spc()).replace('5.02', 'NaN'), 400, /not JSON/],
  [
    'a duplicate field',
    doc(spc()).replace('"value":5.02', '"value":5.02,"value":1'),
    422,
    /^records\.0\.Spc\.value: duplicate field/,
  ],
  ['document is an array', `[${doc(spc())}]`, 422, /^document: expected an object/],
  [
    'document with a key besides records',
    JSON.stringify({ records: [spc()], extra: 1 }),
    422,
    /unknown field\(s\) extra/,
  ],
  ['document without records', '{}', 422, /missing field\(s\) records/],
  ['records not an array', JSON.stringify({ records: spc() }), 422, /^records: expected an array/],
  ['records empty', '{"records":[]}', 422, /^records: must not be empty/],
  ['element not an object', doc(spc(), 'Spc'), 422, /^records\[1\]: expected an object/],
  ['element with two kinds', doc({ ...spc(), ...custom() }), 422, /exactly one key .* got \[Spc, Custom\]/],
  ['element of an unknown kind', doc({ Drift: spc().Spc }), 422, /got \[Drift\]/],
  [
    'mixed kinds',
    doc(spc(), psi({ name: 'spc_model' })),
    422,
    /^records\[1\]: a Psi record in a document of Spc records/,
  ],
  [
    'two profiles in one document',
    doc(spc(), spc({ version: '0.2.0' })),
    422,
    /more than one \(space, name, version\)/,
  ],
  ['Spc without value', doc({ Spc: without(spc().Spc, 'value') }), 422, /records\[0\]\.Spc: missing field\(s\) value/],
  ['Spc with an extra field', doc(spc({ bin_id: 1 })), 422, /records\[0\]\.Spc: unknown field\(s\) bin_id/],
  ['Psi without bin_count', doc({ Psi: without(psi().Psi, 'bin_count') }), 422, /missing field\(s\) bin_count/],
  [
    'Custom with feature instead of metric',
    doc({ Custom: { ...without(custom().Custom, 'metric'), feature: 'f' } }),
    422,
    /missing field\(s\) metric/,
  ],
  [
    'bin_id written as 3.0',
    doc(psi()).replace('"bin_id":3', '"bin_id":3.0'),
    422,
    /Psi\.bin_id: expected a non-negative JSON integer, got 3\.0/,
  ],
  [
    'bin_count written with an exponent',
    doc(psi()).replace('"bin_count":17', '"bin_count":1.7e1'),
    422,
    /bin_count: .* got 1\.7e1/,
  ],
  [
    'negative bin_count',
    doc(psi({ bin_count: -1 })),
    422,
    /Psi\.bin_count: expected a non-negative JSON integer, got -1/,
  ],
  ['fractional bin_id', doc(psi({ bin_id: 2.5 })), 422, /bin_id: .* got 2\.5/],
  ['bin_id as a string', doc(psi({ bin_id: '3' })), 422, /bin_id: .* got "3"/],
  ['LLM id written as 0.0', doc(llm()).replace('"id":0', '"id":0.0'), 422, /record\.id: .* got 0\.0/],
  ['value null (NaN/inf in JSON)', doc(spc({ value: null })), 422, /Spc\.value: expected a finite number, got null/],
  ['Custom value a string', doc(custom({ value: '1.2' })), 422, /Custom\.value: expected a finite number/],
  [
    'created_at without Z',
    doc(spc({ created_at: '2025-08-25T12:00:00.123456' })),
    422,
    /created_at: expected an RFC 3339 UTC timestamp/,
  ],
  ['created_at with an offset', doc(spc({ created_at: '2025-08-25T12:00:00+00:00' })), 422, /created_at/],
  ['created_at not a date (Feb 30)', doc(spc({ created_at: '2025-02-30T12:00:00Z' })), 422, /created_at/],
  ['created_at a number', doc(spc({ created_at: 1756123200 })), 422, /created_at/],
  ['empty space', doc(spc({ space: '' })), 422, /Spc\.space: expected a non-empty string/],
  ['version not a string', doc(psi({ version: 1 })), 422, /Psi\.version: expected a non-empty string/],
  ['empty feature', doc(spc({ feature: '' })), 422, /Spc\.feature: expected a non-empty string/],
  ['upper-case metric', doc(custom({ metric: 'MAE' })), 422, /Custom\.metric: must be lower-case/],
  ['LLM without record wrapper', doc({ LLMDrift: llmFields() }), 422, /LLMDrift: missing field\(s\) record/],
  [
    'LLM with a key next to record',
    doc({ LLMDrift: { record: llmFields(), id: 0 } }),
    422,
    /LLMDrift: unknown field\(s\) id/,
  ],
  [
    'LLM missing a field',
    doc({ LLMDrift: { record: without(llmFields(), 'processing_duration') } }),
    422,
    /record: missing field\(s\) processing_duration/,
  ],
  ['LLM with an extra field', doc(llm({ entity_id: 1 })), 422, /record: unknown field\(s\) entity_id/],
  ['LLM status not Pending', doc(llm({ status: 'Processed' })), 422, /record\.status: expected "Pending"/],
  [
    'LLM uid a UUIDv4',
    doc(llm({ uid: '0198e1c2-7a3b-4c4d-8e5f-0123456789ab' })),
    422,
    /record\.uid: expected a hyphenated UUIDv7/,
  ],
  ['LLM uid without hyphens', doc(llm({ uid: UID_V7.replace(/-/g, '') })), 422, /record\.uid/],
  ['LLM context an array', doc(llm({ context: ['hi'] })), 422, /record\.context: expected a JSON object/],
  ['LLM context null', doc(llm({ context: null })), 422, /record\.context/],
  ['LLM score not null', doc(llm({ score: 0.5 })), 422, /record\.score: expected null/],
  [
    'LLM processing_duration not null',
    doc(llm({ processing_duration: 3 })),
    422,
    /record\.processing_duration: expected null/,
  ],
]

for (const [rule, body, status, message] of invalid) {
  test(`validation rejects: ${rule}`, async (t) => {
    const server = await started(t)
    const answer = await publish(server, body)
    t.is(answer.status, status)
    t.is(answer.body.status, 'error')
    t.regex(answer.body.message ?? '', message)
    t.is(server.documents().length, 0)
    t.is(server.requests.at(-1)?.body, body, 'the rejected body is still recorded')
  })
}

// ---------------------------------------------------------------------------------------------
// Scripted failures, token refresh, permissions

test('failNext: 429 with Retry-After is answered once, not stored; the next request succeeds', async (t) => {
  const server = await started(t)
  server.failNext({ status: 429, retryAfterSeconds: 2 })
  const tok = await token(server)
  const first = await post(server, doc(spc()), { token: tok })
  t.is(first.status, 429)
  t.is(first.headers.get('retry-after'), '2')
  t.is(first.body.status, 'error')
  t.is(server.documents().length, 0)
  const second = await post(server, doc(spc()), { token: tok })
  t.is(second.status, 200)
  t.is(second.headers.get('retry-after'), null)
  t.is(server.documents().length, 1)
})

test('failNext: answers are consumed in order, after the token check and before validation', async (t) => {
  const server = await started(t)
  server.failNext({ status: 503, body: 'upstream down' }, { status: 500 })
  t.is((await post(server, doc(spc()))).status, 401, 'no token: 401, the script is not consumed')
  const tok = await token(server)
  const first = await request(`${server.uri}/scouter/drift`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' },
    body: '{"records":[]}',
  })
  t.is(first.status, 503, 'scripted before validation: even an invalid body gets the scripted answer')
  t.is(await first.text(), 'upstream down')
  t.is((await post(server, doc(spc()), { token: tok })).status, 500)
  t.is((await post(server, '{"records":[]}', { token: tok })).status, 422, 'script exhausted: validation again')
  t.is(server.documents().length, 0)
})

test('failNext: a scripted 2xx stores a valid document and answers with that status', async (t) => {
  const server = await started(t)
  server.failNext({ status: 202, body: '{"status":"success","message":"queued"}' })
  const answer = await publish(server, doc(custom()))
  t.is(answer.status, 202)
  t.is(answer.body.message, 'queued')
  t.is(server.documents().length, 1)
})

test('refreshTokenOnNextPost: the response carries a new bearer token; the old one then gets 401', async (t) => {
  const server = await started(t)
  const old = await token(server)
  server.refreshTokenOnNextPost()
  const refreshed = await post(server, doc(spc()), { token: old })
  t.is(refreshed.status, 200)
  const header = refreshed.headers.get('authorization') ?? ''
  t.regex(header, /^Bearer \S+$/)
  const fresh = header.slice('Bearer '.length)
  t.not(fresh, old)
  t.is((await post(server, doc(spc()), { token: old })).status, 401)
  const next = await post(server, doc(spc()), { token: fresh })
  t.is(next.status, 200)
  t.is(next.headers.get('authorization'), null, 'only the next successful POST is refreshed')
  t.is(server.documents().length, 2)
  t.is(server.logins(), 1)
})

test('allowSpaces: a record outside the allowed spaces gets 403 and is not stored', async (t) => {
  const server = await started(t)
  server.allowSpaces(['production'])
  const denied = await publish(server, doc(spc()))
  t.is(denied.status, 403)
  t.is(denied.body.status, 'error')
  t.regex(denied.body.message ?? '', /"scouter"/)
  t.is((await publish(server, doc(spc({ space: 'production' })))).status, 200)
  server.allowSpaces(null)
  t.is((await publish(server, doc(spc()))).status, 200)
  t.is(server.documents().length, 2)
})

// ---------------------------------------------------------------------------------------------
// Routing, recording, robustness, shutdown

test('routing: unknown paths get 404, a known path with the wrong method 405', async (t) => {
  const server = await started(t)
  t.is((await request(`${server.uri}/scouter/healthcheck`)).status, 404)
  t.is((await request(`${server.uri}/`)).status, 404)
  const wrongMethod = await request(`${server.uri}/scouter/drift`)
  t.is(wrongMethod.status, 405)
  t.is(wrongMethod.headers.get('allow'), 'POST')
  t.is((await request(`${server.uri}/scouter/auth/login`, { method: 'POST' })).status, 405)
})

test('requests: every exchange is recorded in order with lower-cased headers, body, status and response', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  await post(server, doc(spc()), { token: tok })
  t.deepEqual(
    server.requests.map((r) => [r.method, r.path, r.status]),
    [
      ['GET', '/scouter/auth/login', 200],
      ['POST', '/scouter/drift', 200],
    ],
  )
  const [loginRequest, postRequest] = server.requests
  t.is(loginRequest!.headers['username'], 'admin')
  t.is(loginRequest!.headers['password'], 'admin')
  t.is(JSON.parse(loginRequest!.response).token, tok)
  t.is(postRequest!.headers['authorization'], `Bearer ${tok}`)
  t.is(postRequest!.headers['content-type'], 'application/json')
  t.is(postRequest!.body, doc(spc()))
  t.is(JSON.parse(postRequest!.response).status, 'success')
  t.is(postRequest!.responseHeaders['content-type'], 'application/json')
})

test('robustness: bad bytes, deep nesting, huge numbers and broken HTTP never crash the server', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  const invalidUtf8 = new Uint8Array([
    ...new TextEncoder().encode('{"records":["'),
    0xff,
    0xfe,
    ...new TextEncoder().encode('"]}'),
  ])
  t.is((await post(server, invalidUtf8, { token: tok })).status, 400)
  t.is((await post(server, `${'['.repeat(100_000)}${']'.repeat(100_000)}`, { token: tok })).status, 400)
  t.is(
    (await post(server, doc(psi()).replace('"bin_count":17', `"bin_count":${'9'.repeat(400)}`), { token: tok })).status,
    422,
  )
  t.is((await post(server, '{"__proto__":{"records":[]}}', { token: tok })).status, 422)
  t.is((await post(server, '', { token: tok })).status, 400)

  const reply = await new Promise<string>((resolve, reject) => {
    const url = new URL(server.uri)
    const socket = connect(Number(url.port), url.hostname, () => socket.write('NOT HTTP AT ALL\r\n\r\n'))
    let data = ''
    socket.on('data', (chunk) => (data += chunk.toString()))
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
  t.regex(reply, /^HTTP\/1\.1 400/)
  t.is((await publish(server, doc(spc()))).status, 200, 'still serving')
  t.is(server.documents().length, 1)
})

test('close: resolves with keep-alive connections open, and the port stops answering', async (t) => {
  const server = await ScouterTestServer.start()
  t.is((await login(server)).status, 200) // leaves an idle keep-alive socket in fetch's pool
  const begin = Date.now()
  await server.close()
  t.true(Date.now() - begin < scaled(1000), 'idle keep-alive sockets are closed, not waited for')
  await server.close() // idempotent
  await t.throwsAsync(() => request(`${server.uri}/scouter/auth/login`))
})

// ---------------------------------------------------------------------------------------------
// Slow answers, hangs, resets mid-response, timing and concurrency of the recorded exchanges

/** Sends a raw HTTP/1.1 request on its own socket and collects whatever comes back until the socket closes. */
function rawExchange(server: ScouterTestServer, request: string): Promise<{ data: string; error: boolean }> {
  return new Promise((resolve) => {
    const url = new URL(server.uri)
    const socket = connect(Number(url.port), url.hostname, () => socket.write(request))
    let data = ''
    let error = false
    socket.on('data', (chunk) => (data += chunk.toString()))
    socket.on('error', () => (error = true))
    socket.on('close', () => resolve({ data, error }))
  })
}

function rawPost(tok: string, body: string): string {
  return (
    `POST /scouter/drift HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  )
}

test('every exchange records its outcome and when it arrived and settled', async (t) => {
  const server = await started(t)
  const before = performance.now()
  await publish(server, doc(spc()))
  const after = performance.now()
  for (const request of server.requests) {
    t.is(request.outcome, 'answered')
    t.true(before <= request.receivedAt && request.receivedAt <= request.settledAt && request.settledAt <= after)
  }
})

test('setResponseDelayMs: every POST is answered after the delay, concurrent ones overlap and are counted', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  // 500 ms: one after the other, the four would take 2 s; overlapping, well under that even when loaded.
  const delay = scaled(500)
  server.setResponseDelayMs(delay)
  const begin = performance.now()
  const answers = await Promise.all([1, 2, 3, 4].map((i) => post(server, doc(spc({ value: i })), { token: tok })))
  const elapsed = performance.now() - begin
  t.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200])
  t.true(elapsed >= delay - 5 && elapsed < 3.8 * delay, `4 concurrent POSTs took ${elapsed} ms (delay ${delay} ms)`)
  t.is(server.maxConcurrentPosts(), 4)
  t.is(server.openPostCount(), 0)
  t.is(server.documents().length, 4)
  for (const request of server.requests.filter((r) => r.path === '/scouter/drift')) {
    t.true(request.settledAt - request.receivedAt >= delay - 5, 'held for the delay')
  }
  server.setResponseDelayMs(0)
  const quick = performance.now()
  await post(server, doc(spc()), { token: tok })
  t.true(performance.now() - quick < scaled(400))
  t.throws(() => server.setResponseDelayMs(-1), { instanceOf: RangeError })
})

test('sequential POSTs never count as concurrent', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  server.setResponseDelayMs(20)
  for (let i = 0; i < 3; i++) await post(server, doc(spc()), { token: tok })
  t.is(server.maxConcurrentPosts(), 1)
})

test('a scripted hang is answered after hangMs if the client waits, with the scripted status', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  server.failNext(faults.hang(300), { status: 503, hangMs: 200, retryAfterSeconds: 1 })
  const begin = performance.now()
  const first = await post(server, doc(spc()), { token: tok })
  t.is(first.status, 200)
  t.true(performance.now() - begin >= 295)
  t.is(server.documents().length, 1, 'a hung 2xx that is still wanted stores the document')
  const second = await post(server, doc(spc()), { token: tok })
  t.is(second.status, 503)
  t.is(second.headers.get('retry-after'), '1')
  t.is(server.documents().length, 1)
})

test('a scripted hang whose client hangs up is abandoned: nothing sent, nothing stored, later requests served', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  server.failNext(faults.hang(scaled(10_000)))
  // The client hangs up once the server holds its request (not on a timer, which a starved event
  // loop could fire before the request was even sent).
  const controller = new AbortController()
  const hanging = request(`${server.uri}/scouter/drift`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' },
    body: doc(spc()),
    signal: controller.signal,
  })
  hanging.catch(() => {}) // awaited below
  const held = performance.now() + scaled(2000)
  while (server.openPostCount() === 0 && performance.now() < held) await new Promise((r) => setTimeout(r, 5))
  t.is(server.openPostCount(), 1, 'the server holds the request')
  const begin = performance.now()
  controller.abort()
  await t.throwsAsync(hanging, { any: true })
  // The abort reaches the server a moment later.
  const deadline = performance.now() + scaled(2000)
  while (server.requests.length < 2 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  const hung = server.requests.at(-1)!
  t.is(hung.outcome, 'abandoned')
  t.is(hung.status, 0)
  t.true(hung.settledAt - begin < scaled(2000), 'recorded when the client left, not after the hang')
  t.is(server.documents().length, 0)
  t.is(server.openPostCount(), 0)
  t.is((await post(server, doc(spc()), { token: tok })).status, 200)
  t.is(server.documents().length, 1)
})

test('close() does not wait for held requests', async (t) => {
  const server = await ScouterTestServer.start()
  const tok = await token(server)
  server.failNext(faults.hang(scaled(10_000)))
  const pending = rawExchange(server, rawPost(tok, doc(spc())))
  while (server.openPostCount() === 0) await new Promise((r) => setTimeout(r, 5))
  const begin = performance.now()
  await server.close()
  const { data } = await pending
  t.true(performance.now() - begin < scaled(1000))
  t.is(data, '', 'nothing was sent')
  t.is(server.requests.at(-1)!.outcome, 'abandoned')
  t.is(server.documents().length, 0)
})

test('a scripted reset sends the status line, headers and half the body, then closes; only a 2xx one stored the document', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  server.failNext(faults.reset(), faults.reset(503))
  const { data } = await rawExchange(server, rawPost(tok, doc(spc())))
  const [head, partial] = data.split('\r\n\r\n') as [string, string]
  t.regex(head, /^HTTP\/1\.1 200 OK\r\n/)
  const length = Number(/content-length: (\d+)/i.exec(head)![1])
  t.true(partial.length > 0 && partial.length < length, `${partial.length} of ${length} body bytes`)
  t.true('{"status":"success","message":"Drift records published"}'.startsWith(partial))
  t.is(server.documents().length, 1, 'the 200 was written after the document was stored')
  const reset = server.requests.at(-1)!
  t.is(reset.outcome, 'reset')
  t.is(reset.status, 200)

  // fetch sees the headers, then fails reading the body.
  const response = await request(`${server.uri}/scouter/drift`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' },
    body: doc(spc()),
  })
  t.is(response.status, 503)
  await t.throwsAsync(response.text())
  t.is(server.documents().length, 1, 'a 503 stores nothing')
  t.is(server.openPostCount(), 0)
  t.is((await post(server, doc(spc()), { token: tok })).status, 200, 'still serving')
  t.deepEqual(
    server.requests.filter((r) => r.path === '/scouter/drift').map((r) => [r.status, r.outcome]),
    [
      [200, 'reset'],
      [503, 'reset'],
      [200, 'answered'],
    ],
  )
})

test('a scripted 2xx without a body answers the usual success body', async (t) => {
  const server = await started(t)
  server.failNext({ status: 201 })
  const answer = await publish(server, doc(custom()))
  t.is(answer.status, 201)
  t.is(answer.body.status, 'success')
  t.is(server.documents().length, 1)
})

// ---------------------------------------------------------------------------------------------
// The 0.25 format on POST /scouter/message (SCOUTER_WIRE_0_25.md)

const MESSAGE = '/scouter/message'
const UID = '0197f3a0-0000-7000-8000-000000000001'
const TRACE_ID = '0123456789abcdef0123456789abcdef'

const spc25 = (over: Fields = {}) => ({
  Spc: { created_at: CREATED_AT, uid: UID, feature: 'feature_0', value: 4.8, entity_id: 0, ...over },
})
const psi25 = (over: Fields = {}) => ({
  Psi: { created_at: CREATED_AT, uid: UID, feature: 'feature_0', bin_id: 1, bin_count: 212, entity_id: 0, ...over },
})
const custom25 = (over: Fields = {}) => ({
  Custom: { created_at: CREATED_AT, uid: UID, metric: 'mae', value: 6.25, entity_id: 0, ...over },
})
const evalFields = (over: Fields = {}): Fields => ({
  record_id: '',
  session_id: '0198e1c2-7a3b-7c4d-8e5f-0123456789ac',
  created_at: CREATED_AT,
  uid: UID_V7,
  context: { input: 'hi', response: 'hello' },
  id: 0,
  updated_at: null,
  processing_started_at: null,
  processing_ended_at: null,
  processing_duration: null,
  entity_id: 0,
  entity_uid: UID,
  status: 'Pending',
  entity_type: 'GenAI',
  retry_count: 0,
  trace_id: null,
  tags: [],
  ...over,
})
const genai = (over: Fields = {}) => ({ GenAIEval: { record: evalFields(over) } })

/** Logs in, then posts `body` to /scouter/message. */
async function publish25(server: ScouterTestServer, body: string): Promise<Answer> {
  return post(server, body, { token: await token(server), path: MESSAGE })
}

for (const [kind, build] of [
  ['Spc', spc25],
  ['Psi', psi25],
  ['Custom', custom25],
  ['GenAIEval', genai],
] as const) {
  test(`message: a valid 0.25 ${kind} document is answered 200 "Message queued for processing" and stored as 0.25`, async (t) => {
    const server = await started(t)
    const body = doc(build(), build())
    const answer = await publish25(server, body)
    t.is(answer.status, 200)
    t.deepEqual(answer.body, { status: 'success', message: 'Message queued for processing' })
    t.deepEqual(server.rawDocuments('v0.25'), [body])
    t.deepEqual(server.documents('v0.25'), [JSON.parse(body)])
    t.deepEqual(server.rawDocuments('v0.9'), [])
    t.deepEqual(server.rawDocuments(), [body], 'documents() without a format lists both')
  })
}

test('message: the accepted 0.25 edge cases (trace ids in either case, tags, ids, any i32 entity_id)', async (t) => {
  const server = await started(t)
  const bodies = [
    doc(genai({ trace_id: TRACE_ID }), genai({ trace_id: TRACE_ID.toUpperCase() })),
    doc(genai({ tags: ['env=prod', 'a=b=c', ''], record_id: 'r-1', session_id: 'any session' })),
    doc(genai({ context: {}, id: 9007199254740992, retry_count: 2147483647 })),
    doc(psi25({ bin_id: 0, bin_count: 0 }), psi25({ bin_id: 2147483647, bin_count: 2147483647 })),
    doc(spc25({ entity_id: -2147483648 }), spc25({ entity_id: 7 })),
    doc(custom25({ uid: 'any-profile-uid', value: -1e-3 })),
    JSON.stringify({ records: [psi25()] }, null, 2),
  ]
  for (const body of bodies) t.is((await publish25(server, body)).status, 200, body)
  t.is(server.documents('v0.25').length, bodies.length)
})

test('message: each path takes only its own format; a GET gets 405', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  const onMessage = await post(server, doc(spc()), { token: tok, path: MESSAGE })
  t.is(onMessage.status, 422)
  t.regex(onMessage.body.message ?? '', /records\[0\]\.Spc: missing field\(s\) uid, entity_id/)
  const llmOnMessage = await post(server, doc(llm()), { token: tok, path: MESSAGE })
  t.regex(llmOnMessage.body.message ?? '', /exactly one key among Spc, Psi, Custom, GenAIEval, got \[LLMDrift\]/)
  const onDrift = await post(server, doc(spc25()), { token: tok })
  t.is(onDrift.status, 422)
  t.regex(onDrift.body.message ?? '', /records\[0\]\.Spc: missing field\(s\) space, name, version/)
  t.is((await post(server, doc(genai()), { token: tok })).status, 422)
  t.deepEqual(server.rawDocuments(), [])
  const get = await request(`${server.uri}${MESSAGE}`)
  t.is(get.status, 405)
  t.is(get.headers.get('allow'), 'POST')
  t.is((await post(server, doc(spc25()), { path: MESSAGE })).status, 401, 'a token is needed as on /scouter/drift')
})

const invalid25: Array<[rule: string, body: string, message: RegExp]> = [
  ['bin_id written as 2.0', doc(psi25()).replace('"bin_id":1', '"bin_id":2.0'), /Psi\.bin_id: expected a non-negative JSON integer within i32, got 2\.0/],
  ['bin_count with an exponent', doc(psi25()).replace('"bin_count":212', '"bin_count":2.12e2'), /bin_count: .* got 2\.12e2/],
  ['bin_count past i32', doc(psi25({ bin_count: 2147483648 })), /bin_count: .* within i32, got 2147483648/],
  ['negative bin_id', doc(psi25({ bin_id: -1 })), /bin_id: .* got -1/],
  ['bin_count a string', doc(psi25({ bin_count: '3' })), /bin_count: .* got "3"/],
  ['entity_id missing', doc({ Spc: without(spc25().Spc, 'entity_id') }), /Spc: missing field\(s\) entity_id/],
  ['uid missing', doc({ Custom: without(custom25().Custom, 'uid') }), /Custom: missing field\(s\) uid/],
  ['uid empty', doc(spc25({ uid: '' })), /Spc\.uid: expected a non-empty string/],
  ['entity_id written as 0.0', doc(spc25()).replace('"entity_id":0', '"entity_id":0.0'), /entity_id: expected a JSON integer within i32, got 0\.0/],
  ['entity_id past i32', doc(custom25({ entity_id: 2147483648 })), /entity_id: .* got 2147483648/],
  ['a v0.9 field next to the 0.25 ones', doc(spc25({ space: 'scouter' })), /Spc: unknown field\(s\) space/],
  ['value null (NaN)', doc(spc25({ value: null })), /Spc\.value: expected a finite number, got null/],
  ['upper-case metric', doc(custom25({ metric: 'MAE' })), /Custom\.metric: must be lower-case/],
  ['created_at with an offset', doc(psi25({ created_at: '2025-08-25T12:00:00+00:00' })), /created_at: expected an RFC 3339 UTC timestamp/],
  ['GenAIEval without the record wrapper', doc({ GenAIEval: evalFields() }), /GenAIEval: missing field\(s\) record/],
  ['GenAIEval with a key next to record', doc({ GenAIEval: { record: evalFields(), entity_id: 0 } }), /GenAIEval: unknown field\(s\) entity_id/],
  ['GenAIEval without tags', doc({ GenAIEval: { record: without(evalFields(), 'tags') } }), /record: missing field\(s\) tags/],
  ['GenAIEval without trace_id', doc({ GenAIEval: { record: without(evalFields(), 'trace_id') } }), /record: missing field\(s\) trace_id/],
  ['trace_id of 31 hex digits', doc(genai({ trace_id: TRACE_ID.slice(1) })), /record\.trace_id: expected null or 32 hex digits/],
  ['trace_id of 33 hex digits', doc(genai({ trace_id: `${TRACE_ID}0` })), /record\.trace_id/],
  ['trace_id not hex', doc(genai({ trace_id: 'g'.repeat(32) })), /record\.trace_id/],
  ['trace_id a UUID', doc(genai({ trace_id: UID_V7 })), /record\.trace_id/],
  ['tags not an array', doc(genai({ tags: 'env=prod' })), /record\.tags: expected an array of strings/],
  ['a tag not a string', doc(genai({ tags: ['a=b', 1] })), /record\.tags/],
  ['status not Pending', doc(genai({ status: 'Processed' })), /record\.status: expected "Pending"/],
  ['entity_type not GenAI', doc(genai({ entity_type: 'LLM' })), /record\.entity_type: expected "GenAI"/],
  ['retry_count written as 0.0', doc(genai()).replace('"retry_count":0', '"retry_count":0.0'), /record\.retry_count: .* got 0\.0/],
  ['id written as 0.0', doc(genai()).replace('"id":0,', '"id":0.0,'), /record\.id: expected a JSON integer within i64, got 0\.0/],
  ['id past i64', doc(genai()).replace('"id":0,', '"id":9223372036854775808,'), /record\.id: .* got 9223372036854775808/],
  ['record uid not a UUIDv7', doc(genai({ uid: UID_V7.replace('-7c4d-', '-4c4d-') })), /record\.uid: expected a hyphenated UUIDv7/],
  ['entity_uid empty', doc(genai({ entity_uid: '' })), /record\.entity_uid: expected a non-empty string/],
  ['session_id a number', doc(genai({ session_id: 7 })), /record\.session_id: expected a string/],
  ['context an array', doc(genai({ context: ['hi'] })), /record\.context: expected a JSON object/],
  ['processing_duration not null', doc(genai({ processing_duration: 3 })), /record\.processing_duration: expected null/],
  ['mixed kinds', doc(spc25(), psi25()), /records\[1\]: a Psi record in a document of Spc records/],
  ['two profiles in one document', doc(spc25(), spc25({ uid: 'another' })), /records of more than one profile uid/],
  ['two GenAI profiles in one document', doc(genai(), genai({ entity_uid: 'another' })), /more than one profile uid/],
  ['a duplicate field', doc(psi25()).replace('"bin_id":1', '"bin_id":1,"bin_id":2'), /^records\.0\.Psi\.bin_id: duplicate field/],
  ['records empty', '{"records":[]}', /^records: must not be empty/],
]

for (const [rule, body, message] of invalid25) {
  test(`message: validation rejects: ${rule}`, async (t) => {
    const server = await started(t)
    const answer = await publish25(server, body)
    t.is(answer.status, 422)
    t.is(answer.body.status, 'error')
    t.regex(answer.body.message ?? '', message)
    t.deepEqual(server.rawDocuments(), [])
  })
}

test('message: scripted failures, delays and the open-POST count apply to /scouter/message too', async (t) => {
  const server = await started(t)
  const tok = await token(server)
  server.failNext({ status: 429, retryAfterSeconds: 1 }, { status: 202 })
  const first = await post(server, doc(spc25()), { token: tok, path: MESSAGE })
  t.is(first.status, 429)
  t.is(first.headers.get('retry-after'), '1')
  const second = await post(server, doc(spc25()), { token: tok, path: MESSAGE })
  t.is(second.status, 202)
  t.is(second.body.message, 'Message queued for processing', 'a scripted 2xx answers as the 0.25 server words it')
  server.setResponseDelayMs(scaled(100))
  await Promise.all([1, 2].map(() => post(server, doc(spc25()), { token: tok, path: MESSAGE })))
  t.is(server.maxConcurrentPosts(), 2)
  t.is(server.documents('v0.25').length, 3)
})

test('message: refreshTokenOnNextPost rotates the token on /scouter/message as on /scouter/drift', async (t) => {
  const server = await started(t)
  const old = await token(server)
  server.refreshTokenOnNextPost()
  const refreshed = await post(server, doc(custom25()), { token: old, path: MESSAGE })
  t.is(refreshed.status, 200)
  const fresh = (refreshed.headers.get('authorization') ?? '').replace(/^Bearer /, '')
  t.true(fresh.length > 0 && fresh !== old)
  t.is((await post(server, doc(custom25()), { token: old, path: MESSAGE })).status, 401)
  const next = await post(server, doc(custom25()), { token: fresh, path: MESSAGE })
  t.is(next.status, 200)
  t.is(next.headers.get('authorization'), null)
})

test('rotateTokensOnEveryPost: every successful publish (either path) rotates; off again stops it', async (t) => {
  const server = await started(t)
  let current = await token(server)
  server.rotateTokensOnEveryPost(true)
  for (const [body, path] of [
    [doc(spc()), '/scouter/drift'],
    [doc(spc25()), MESSAGE],
    [doc(genai()), MESSAGE],
  ] as const) {
    const answer = await post(server, body, { token: current, path })
    t.is(answer.status, 200)
    const header = answer.headers.get('authorization') ?? ''
    t.regex(header, /^Bearer \S+$/)
    t.is((await post(server, body, { token: current, path })).status, 401, 'the token it was sent with is revoked')
    current = header.slice('Bearer '.length)
  }
  const refused = await post(server, '{"records":[]}', { token: current, path: MESSAGE })
  t.is(refused.status, 422)
  t.is(refused.headers.get('authorization'), null, 'a refused publish does not rotate')
  server.rotateTokensOnEveryPost(false)
  const quiet = await post(server, doc(spc25()), { token: current, path: MESSAGE })
  t.is(quiet.status, 200)
  t.is(quiet.headers.get('authorization'), null)
  t.is(server.logins(), 1)
  t.is(server.documents('v0.9').length, 1)
  t.is(server.documents('v0.25').length, 3)
})
