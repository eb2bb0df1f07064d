/**
 * The HTTP transport against the in-repo Scouter API server (a real socket on 127.0.0.1; see
 * helpers/scouter-server.ts, itself checked by scouter-server.spec.ts): login, bearer tokens,
 * refresh, re-login after 401, retries honouring Retry-After, and non-retryable 4xx.
 */
import { inspect } from 'node:util'

import test from 'ava'

import { HttpConfig, Metrics, ScouterQueue, TransportError, type ScouterQueueError } from '../ts/index'
import { toBinding } from '../ts/config/transports'
import { assertKnownSet, assertKnownStats, insertKnownSet, knownSetProfiles } from './helpers/brokers'
import { withEnv } from './helpers/env'
import { profiles, uidProfiles } from './helpers/fixtures'
import { ScouterTestServer } from './helpers/scouter-server'

const drifts = (server: ScouterTestServer) => server.requests.filter((r) => r.path === '/scouter/drift')
const messages = (server: ScouterTestServer) => server.requests.filter((r) => r.path === '/scouter/message')
const logins = (server: ScouterTestServer) => server.requests.filter((r) => r.path === '/scouter/auth/login')

async function customQueue(server: ScouterTestServer, options: ConstructorParameters<typeof HttpConfig>[0] = {}, errors: ScouterQueueError[] = []) {
  return ScouterQueue.fromPath({ custom: profiles.custom }, new HttpConfig({ serverUri: server.uri, ...options }), {
    onError: (error) => errors.push(error),
  })
}

test('HTTP: logs in, then every drift kind of both formats is accepted by the server exactly', async (t) => {
  const server = await ScouterTestServer.start({ username: 'svc', password: 'pw' })
  const queues = await ScouterQueue.fromPath(knownSetProfiles, new HttpConfig({ serverUri: server.uri, username: 'svc', password: 'pw' }))
  const known = insertKnownSet(queues)
  assertKnownStats(t, await queues.flush())
  assertKnownSet(t, server.documents(), known)
  t.is(server.logins(), 1, 'one login serves every publish')
  const login = logins(server)[0]!
  t.like(login.headers, { username: 'svc', password: 'pw' })
  t.is(drifts(server).length, 4, 'v0.9 documents go to /scouter/drift')
  t.is(messages(server).length, 2, '0.25 documents go to /scouter/message')
  t.is(server.documents('v0.25').length, 2)
  for (const request of [...drifts(server), ...messages(server)]) {
    t.is(request.method, 'POST')
    t.is(request.headers['content-type'], 'application/json')
    t.regex(request.headers.authorization!, /^Bearer \S+$/)
    t.is(request.status, 200)
  }
  await queues.shutdown()
  await server.close()
})

test('HTTP: a given authToken is used until a 401 asks for a login', async (t) => {
  const server = await ScouterTestServer.start()
  const token = server.issueToken()
  const queues = await customQueue(server, { authToken: token })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  t.is(server.logins(), 0)
  t.is(drifts(server)[0]!.headers.authorization, `Bearer ${token}`)

  server.expireTokens()
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const stats = await queues.flush()
  t.is(server.logins(), 1, 'logged in again after the 401')
  t.deepEqual(drifts(server).map((r) => r.status), [200, 401, 200])
  t.like(stats.custom, { published: 2, failed: 0 })
  await queues.shutdown()
  await server.close()
})

test('HTTP: a refreshed token in a response replaces the old one', async (t) => {
  const server = await ScouterTestServer.start()
  const queues = await customQueue(server)
  server.refreshTokenOnNextPost()
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  const refreshed = drifts(server)[0]!.responseHeaders.authorization
  t.regex(refreshed!, /^Bearer \S+$/)
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const stats = await queues.flush()
  t.is(drifts(server)[1]!.headers.authorization, refreshed, 'the next POST uses the refreshed token')
  t.deepEqual(drifts(server).map((r) => r.status), [200, 200])
  t.is(server.logins(), 1)
  t.like(stats.custom, { published: 2 })
  await queues.shutdown()
  await server.close()
})

test('HTTP: 0.25 documents take the token each answer hands back, as v0.9 ones do', async (t) => {
  const server = await ScouterTestServer.start()
  const queues = await ScouterQueue.fromPath({ custom: uidProfiles.custom }, new HttpConfig({ serverUri: server.uri }))
  server.rotateTokensOnEveryPost(true)
  for (let i = 0; i < 3; i++) {
    queues.get('custom').insert(Metrics.fromObject({ mae: i }))
    await queues.flush()
  }
  const posts = messages(server)
  t.deepEqual(posts.map((r) => r.status), [200, 200, 200], 'a stale token would have been refused with 401')
  for (let i = 1; i < posts.length; i++) {
    t.is(posts[i]!.headers.authorization, posts[i - 1]!.responseHeaders.authorization, `POST ${i} uses the token of answer ${i - 1}`)
  }
  t.is(server.logins(), 1)
  t.deepEqual(server.documents('v0.25').map((doc) => doc.records.map((r) => ('Custom' in r ? r.Custom.value : null))), [[0], [1], [2]])
  await queues.shutdown()
  await server.close()
})

test('HTTP: 429 with Retry-After is retried after the time the server asked for', async (t) => {
  const server = await ScouterTestServer.start()
  const queues = await customQueue(server)
  server.failNext({ status: 429, retryAfterSeconds: 1 })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const started = Date.now()
  const stats = await queues.flush()
  const elapsed = Date.now() - started
  t.true(elapsed >= 950, `retried after ${elapsed} ms, before the server's Retry-After of 1 s`)
  t.deepEqual(drifts(server).map((r) => r.status), [429, 200])
  t.is(drifts(server)[0]!.responseHeaders['retry-after'], '1')
  t.like(stats.custom, { published: 1, failed: 0 })
  t.is(server.documents().length, 1)
  await queues.shutdown()
  await server.close()
})

test('HTTP: 500 then success is retried and published once', async (t) => {
  const server = await ScouterTestServer.start()
  const queues = await customQueue(server)
  server.failNext({ status: 500 }, { status: 503 })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.flush()
  t.deepEqual(drifts(server).map((r) => r.status), [500, 503, 200])
  t.like(stats.custom, { published: 1, failed: 0, documents: 1 })
  await queues.shutdown()
  await server.close()
})

test('HTTP: 400 and 403 are failed publishes, counted and reported, never retried', async (t) => {
  const server = await ScouterTestServer.start()
  const errors: ScouterQueueError[] = []
  const queues = await customQueue(server, {}, errors)
  server.failNext({ status: 400, body: '{"status":"error","message":"bad document"}' })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  let stats = await queues.flush()
  t.deepEqual(drifts(server).map((r) => r.status), [400])
  t.like(stats.custom, { published: 0, failed: 1, publishFailures: 1 })

  server.allowSpaces(['someone_else'])
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  stats = await queues.flush()
  t.deepEqual(drifts(server).map((r) => r.status), [400, 403])
  t.like(stats.custom, { published: 0, failed: 2, publishFailures: 2 })
  t.is(errors.length, 2)
  t.true(errors.every((e) => e instanceof TransportError))
  t.regex(errors[0]!.message, /400.*bad document/)
  t.regex(errors[1]!.message, /403/)
  await queues.shutdown()
  await server.close()
})

test('HTTP: wrong credentials fail the publish without retrying the login forever', async (t) => {
  const server = await ScouterTestServer.start({ username: 'admin', password: 'right' })
  const errors: ScouterQueueError[] = []
  const queues = await customQueue(server, { password: 'wrong' }, errors)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.shutdown()
  t.like(stats.custom, { failed: 1, pending: 0 })
  t.is(logins(server).length, 1)
  t.regex(errors[0]!.message, /login as `admin` answered 401/)
  t.false(errors[0]!.message.includes('wrong'), 'the password is not in the message')
  await server.close()
  await t.throwsAsync(ScouterQueue.fromPath({ custom: profiles.custom }, new HttpConfig({ serverUri: server.uri }), { connectTimeoutMs: 1000 }), {
    code: 'SCOUTER_CONFIG_INVALID',
  })
})

test('HTTP: a server that is not there is reported without hanging', async (t) => {
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, new HttpConfig({ serverUri: 'http://127.0.0.1:1', maxRetries: 1 }), {
    onError: (error) => errors.push(error),
  })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.shutdown()
  t.like(stats.custom, { failed: 1, pending: 0 })
  t.regex(errors[0]!.message, /cannot connect/)
})

test('HTTP: options fall back to the SCOUTER_* variables, then the defaults; secrets never show', (t) => {
  const keys = ['SCOUTER_SERVER_URI', 'SCOUTER_USERNAME', 'SCOUTER_PASSWORD', 'SCOUTER_AUTH_TOKEN'] as const
  withEnv(Object.fromEntries(keys.map((key) => [key, undefined])), () => {
  t.like(new HttpConfig(), { serverUri: 'http://localhost:8000', username: 'admin', timeoutMs: 60000, maxRetries: 3 })
  process.env.SCOUTER_SERVER_URI = 'https://scouter.example:8443'
  process.env.SCOUTER_USERNAME = 'env-user'
  process.env.SCOUTER_PASSWORD = 'env-pa55'
  process.env.SCOUTER_AUTH_TOKEN = 'env-t0ken'
  const config = new HttpConfig()
  t.like(config, { serverUri: 'https://scouter.example:8443', username: 'env-user' })
  t.like(new HttpConfig({ username: 'explicit' }), { username: 'explicit' })
  for (const printed of [String(config), JSON.stringify(config), inspect(config)]) {
    t.false(printed.includes('env-pa55') || printed.includes('env-t0ken'), printed)
    t.true(printed.includes('[redacted]'), printed)
  }
  })
})

test('HTTP: credentials in serverUri log in, and the config keeps and shows the URI without them', async (t) => {
  const server = await ScouterTestServer.start({ username: 'svc', password: 'p@ss:w0rd' })
  const withCredentials = server.uri.replace('http://', 'http://svc:p%40ss%3Aw0rd@')
  const config = withEnv({ SCOUTER_USERNAME: undefined, SCOUTER_PASSWORD: undefined }, () => new HttpConfig({ serverUri: withCredentials }))
  t.is(config.serverUri, server.uri)
  t.is(config.username, 'svc')
  const shown = [JSON.stringify({ ...config }), JSON.stringify(Object.entries(config)), JSON.stringify(config), inspect(config), String(config), inspect({ ...config })]
  for (const printed of shown) t.false(/p@ss|p%40ss|w0rd/.test(printed), printed)
  const queues = await ScouterQueue.fromPath({ custom: profiles.custom }, config)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.shutdown()
  t.like(stats.custom, { published: 1, failed: 0 })
  t.like(logins(server)[0]!.headers, { username: 'svc', password: 'p@ss:w0rd' })
  await server.close()
})

test('HTTP: username/password options win over credentials in serverUri, which win over the env vars', (t) => {
  withEnv({ SCOUTER_SERVER_URI: undefined, SCOUTER_USERNAME: 'env-user', SCOUTER_PASSWORD: 'env-pass' }, () => {
    const binding = (config: HttpConfig) => config[toBinding]().config
    t.like(binding(new HttpConfig({ serverUri: 'https://u:secret@scouter.example:8443/base?x=1' })), {
      serverUri: 'https://scouter.example:8443/base?x=1',
      username: 'u',
      password: 'secret',
    })
    t.like(binding(new HttpConfig({ serverUri: 'https://u:secret@scouter.example', username: 'opt', password: 'opt-pass' })), {
      serverUri: 'https://scouter.example',
      username: 'opt',
      password: 'opt-pass',
    })
    // Only a user name in the URI: the password falls back to the env var.
    t.like(binding(new HttpConfig({ serverUri: 'http://only-user@localhost:8000' })), { username: 'only-user', password: 'env-pass' })
    // Without userinfo nothing changes.
    t.like(binding(new HttpConfig({ serverUri: 'http://localhost:8000' })), { serverUri: 'http://localhost:8000', username: 'env-user', password: 'env-pass' })
    process.env.SCOUTER_SERVER_URI = 'http://envuser:envsecret@scouter.internal:8000'
    const fromEnv = new HttpConfig()
    t.is(fromEnv.serverUri, 'http://scouter.internal:8000')
    t.like(binding(fromEnv), { username: 'envuser', password: 'envsecret' })
    t.false(JSON.stringify({ ...fromEnv }).includes('envsecret'))
  })
})
