/**
 * The gRPC transport against the in-repo Scouter gRPC server (a real HTTP/2 socket on 127.0.0.1;
 * see helpers/grpc-server.ts): login, bearer metadata, token rotation through
 * `x-refreshed-token`, re-login after UNAUTHENTICATED, retries of UNAVAILABLE & co., statuses
 * that fail without retry, a server that is down or comes back, TLS, and secrets never shown.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inspect } from 'node:util'

import * as grpc from '@grpc/grpc-js'
import test from 'ava'

import { ConfigError, FileConfig, GrpcConfig, Metrics, ScouterQueue, TransportError, type ScouterQueueError, type UidServerRecords } from '../ts/index'
import { toBinding } from '../ts/config/transports'
import { assertUidKnownSetDocuments, assertUidKnownStats, insertUidKnownSet, uidKnownSetProfiles, waitFor } from './helpers/brokers'
import { withEnv } from './helpers/env'
import { customValues, profiles, tempDir, uidProfiles } from './helpers/fixtures'
import { GrpcTestServer } from './helpers/grpc-server'
import { scaled } from './helpers/slowdown'

const inserts = (server: GrpcTestServer) => server.callsOf('InsertMessage')
const codes = (server: GrpcTestServer) => inserts(server).map((call) => grpc.status[call.code])

async function customQueue(server: GrpcTestServer, options: ConstructorParameters<typeof GrpcConfig>[0] = {}, errors: ScouterQueueError[] = []) {
  return ScouterQueue.fromPath({ custom: uidProfiles.custom }, new GrpcConfig({ serverUri: server.uri, ...options }), {
    onError: (error) => errors.push(error),
  })
}

/**
 * Runs `body` with `SSL_CERT_FILE` set until it settles. The TLS tests are serial (ava runs them
 * before the concurrent ones), so no other test sees the variable.
 */
async function withCertFile<T>(path: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env.SSL_CERT_FILE
  process.env.SSL_CERT_FILE = path
  try {
    return await body()
  } finally {
    if (saved === undefined) delete process.env.SSL_CERT_FILE
    else process.env.SSL_CERT_FILE = saved
  }
}

/** Waits until `errors` holds `count` reports: they reach onError just after the flush may resolve. */
const reported = (errors: ScouterQueueError[], count: number) => waitFor(`${count} reported errors`, () => errors.length >= count, 5000)

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = await GrpcTestServer.start()
  const port = server.port
  server.close()
  return port
}

test('gRPC: logs in once, then every drift kind is inserted exactly', async (t) => {
  const server = await GrpcTestServer.start({ username: 'svc', password: 'pw' })
  const queues = await ScouterQueue.fromPath(uidKnownSetProfiles, new GrpcConfig({ serverUri: server.uri, username: 'svc', password: 'pw' }))
  const known = insertUidKnownSet(queues)
  assertUidKnownStats(t, await queues.flush())
  // PSI bins (counts per bin), the SPC means, the Custom means, the eval record: exactly.
  assertUidKnownSetDocuments(t, server.documents() as unknown as UidServerRecords[], known)
  t.is(server.logins(), 1, 'one login serves every publish')
  const [login] = server.callsOf('Login')
  t.is(login!.username, 'svc')
  t.is(login!.metadata.authorization, undefined, 'Login carries no token')
  const token = inserts(server)[0]!.metadata.authorization
  t.regex(token!, /^Bearer \S+$/)
  for (const call of inserts(server)) {
    t.is(call.metadata.authorization, token)
    t.is(call.code, grpc.status.OK)
  }
  // message_record is the document's JSON text, as the HTTP API would get it.
  t.deepEqual(
    server.rawDocuments().map((text) => JSON.parse(text)),
    server.documents(),
  )
  await queues.shutdown()
  server.close()
})

test('gRPC: calls overlap instead of waiting for each other', async (t) => {
  const server = await GrpcTestServer.start()
  const delay = scaled(500)
  server.setResponseDelayMs(delay)
  const queues = await ScouterQueue.fromPath(uidKnownSetProfiles, new GrpcConfig({ serverUri: server.uri }))
  insertUidKnownSet(queues)
  const started = Date.now()
  assertUidKnownStats(t, await queues.flush(scaled(30_000)))
  const elapsed = Date.now() - started
  // One after the other, four documents take 4 x 500 ms.
  t.true(elapsed < 3 * delay, `4 documents against a ${delay} ms server took ${elapsed} ms`)
  const calls = inserts(server)
  const overlapping = calls.filter((call) => calls.some((other) => other !== call && other.receivedAt < call.settledAt && call.receivedAt < other.settledAt))
  t.true(overlapping.length > 1, 'calls were open at the same time')
  await queues.shutdown()
  server.close()
})

test('gRPC: UNAUTHENTICATED means exactly one more login, and the document arrives once', async (t) => {
  const server = await GrpcTestServer.start()
  const queues = await customQueue(server)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  t.is(server.logins(), 1)

  server.failNext(grpc.status.UNAUTHENTICATED)
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  let stats = await queues.flush()
  t.deepEqual(codes(server), ['OK', 'UNAUTHENTICATED', 'OK'])
  t.is(server.logins(), 2, 'one login after the refused token')
  const [, refused, resent] = inserts(server)
  t.not(resent!.metadata.authorization, refused!.metadata.authorization, 'the call after the login uses the new token')
  t.deepEqual(customValues(server.documents()), [1, 2])
  t.like(stats.custom, { published: 2, failed: 0, pending: 0, documents: 2 })

  // Every token revoked at once: still one login.
  server.expireTokens()
  queues.get('custom').insert(Metrics.fromObject({ mae: 3 }))
  stats = await queues.flush()
  t.deepEqual(codes(server), ['OK', 'UNAUTHENTICATED', 'OK', 'UNAUTHENTICATED', 'OK'])
  t.is(server.logins(), 3)
  t.deepEqual(customValues(server.documents()), [1, 2, 3])
  t.like(stats.custom, { published: 3, failed: 0 })
  await queues.shutdown()
  server.close()
})

test('gRPC: UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED are retried; the document arrives once', async (t) => {
  const server = await GrpcTestServer.start()
  const queues = await customQueue(server)
  server.failNext(grpc.status.UNAVAILABLE)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  let stats = await queues.flush()
  t.deepEqual(codes(server), ['UNAVAILABLE', 'OK'])
  t.like(stats.custom, { published: 1, failed: 0, pending: 0, documents: 1 })
  t.deepEqual(customValues(server.documents()), [1])

  server.failNext(grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED)
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const started = Date.now()
  stats = await queues.flush()
  const elapsed = Date.now() - started
  t.deepEqual(codes(server).slice(2), ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'OK'])
  // Backoff with jitter: 50-100, 100-200 and 200-400 ms before the three retries.
  t.true(elapsed >= 350, `three retries after ${elapsed} ms`)
  t.like(stats.custom, { published: 2, failed: 0, documents: 2 })
  t.deepEqual(customValues(server.documents()), [1, 2])
  t.is(server.logins(), 1, 'retries keep the token')
  await queues.shutdown()
  server.close()
})

test('gRPC: a token in x-refreshed-token is used from the next call on', async (t) => {
  const server = await GrpcTestServer.start()
  const queues = await customQueue(server)
  server.refreshTokenOnNextInsert()
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  const fresh = inserts(server)[0]!.responseMetadata['x-refreshed-token']
  t.truthy(fresh)
  t.not(inserts(server)[0]!.metadata.authorization, `Bearer ${fresh}`)
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const stats = await queues.flush()
  t.is(inserts(server)[1]!.metadata.authorization, `Bearer ${fresh}`, 'the next call uses the refreshed token')
  // The old token was revoked with the answer: a client that kept it would have been refused.
  t.deepEqual(codes(server), ['OK', 'OK'])
  t.is(server.logins(), 1)
  t.like(stats.custom, { published: 2, failed: 0 })
  await queues.shutdown()
  server.close()
})

test('gRPC: INVALID_ARGUMENT and PERMISSION_DENIED are failed publishes, counted and reported, never retried', async (t) => {
  const server = await GrpcTestServer.start()
  const errors: ScouterQueueError[] = []
  const queues = await customQueue(server, {}, errors)
  server.failNext({ code: grpc.status.INVALID_ARGUMENT, details: 'bad document' })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  let stats = await queues.flush()
  t.deepEqual(codes(server), ['INVALID_ARGUMENT'])
  t.like(stats.custom, { published: 0, failed: 1, pending: 0, publishFailures: 1 })

  server.failNext(grpc.status.PERMISSION_DENIED)
  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  stats = await queues.flush()
  t.deepEqual(codes(server), ['INVALID_ARGUMENT', 'PERMISSION_DENIED'])
  t.like(stats.custom, { published: 0, failed: 2, publishFailures: 2 })
  t.is(server.documents().length, 0)
  await reported(errors, 2)
  t.is(errors.length, 2)
  t.true(errors.every((e) => e instanceof TransportError))
  t.regex(errors[0]!.message, /grpc transport: InsertMessage failed: InvalidArgument: bad document/)
  t.regex(errors[1]!.message, /PermissionDenied/)
  await queues.shutdown()
  server.close()
})

test('gRPC: a refused login fails the publish once, without the password in the message', async (t) => {
  const server = await GrpcTestServer.start({ username: 'admin', password: 'right' })
  const errors: ScouterQueueError[] = []
  const queues = await customQueue(server, { password: 'wr0ng-pa55' }, errors)
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.shutdown()
  t.like(stats.custom, { failed: 1, pending: 0 })
  t.is(server.callsOf('Login').length, 1, 'a refused login is not retried')
  t.is(inserts(server).length, 0)
  await reported(errors, 1)
  t.regex(errors[0]!.message, /Login as `admin` was refused: status "error", message "invalid username or password"/)
  t.false(errors[0]!.message.includes('wr0ng-pa55'))
  await t.throwsAsync(
    ScouterQueue.fromPath({ custom: uidProfiles.custom }, new GrpcConfig({ serverUri: server.uri, password: 'wr0ng-pa55' }), { connectTimeoutMs: 2000 }),
    { instanceOf: ConfigError, message: /could not connect the grpc transport within 2000 ms: Login as `admin` was refused/ },
  )
  server.close()
})

test('gRPC: a server that is down: fromPath still works (lazy), publishes are retried, then failed', async (t) => {
  const uri = `http://127.0.0.1:${await freePort()}`
  const errors: ScouterQueueError[] = []
  const queues = await ScouterQueue.fromPath({ custom: uidProfiles.custom }, new GrpcConfig({ serverUri: uri, maxRetries: 2, connectTimeoutMs: 1000 }), {
    onError: (error) => errors.push(error),
  })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.shutdown()
  t.like(stats.custom, { inserted: 1, published: 0, failed: 1, pending: 0, publishFailures: 1 })
  await reported(errors, 1)
  t.is(errors.length, 1)
  t.true(errors[0] instanceof TransportError)
  t.regex(errors[0]!.message, /^grpc transport: Login as `admin` failed: Unavailable: .*\(after 2 retries\)$/)
  // Asking to fail fast: fromPath rejects.
  await t.throwsAsync(ScouterQueue.fromPath({ custom: uidProfiles.custom }, new GrpcConfig({ serverUri: uri }), { connectTimeoutMs: 1000 }), {
    instanceOf: ConfigError,
    message: /could not connect the grpc transport within 1000 ms/,
  })
})

test('gRPC: a flush whose deadline passes while the server is down counts the document as failed, and it is never sent later', async (t) => {
  const port = await freePort()
  const queues = await ScouterQueue.fromPath({ custom: uidProfiles.custom }, new GrpcConfig({ serverUri: `http://127.0.0.1:${port}`, maxRetries: 100 }), {
    onError: () => {},
  })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const started = Date.now()
  const stats = await queues.flush(500)
  const elapsed = Date.now() - started
  t.true(elapsed < 2000, `the flush kept its deadline (${elapsed} ms), not the 100 retries`)
  // The existing accounting: what a flush deadline gives up on is failed, not pending.
  t.like(stats.custom, { inserted: 1, published: 0, failed: 1, pending: 0 })
  const server = await GrpcTestServer.start({}, port)
  await new Promise((resolve) => setTimeout(resolve, 800))
  t.is(inserts(server).length, 0, 'nothing counted as failed is sent afterwards')
  t.like((await queues.shutdown(500)).custom, { inserted: 1, published: 0, failed: 1, pending: 0 })
  server.close()
})

test('gRPC: a server that restarts during the retries gets the document once, after a new login', async (t) => {
  const first = await GrpcTestServer.start()
  const queues = await customQueue(first, { maxRetries: 8 })
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  await queues.flush()
  const port = first.port
  first.close()

  queues.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  const flushed = queues.flush()
  await new Promise((resolve) => setTimeout(resolve, 400))
  // The same port, but a new server: it knows no token, so the client must log in again.
  const second = await GrpcTestServer.start({}, port)
  const stats = await flushed
  t.like(stats.custom, { published: 2, failed: 0, pending: 0 })
  t.deepEqual(customValues(first.documents()), [1])
  t.deepEqual(customValues(second.documents()), [2], 'the document arrived once')
  t.is(second.logins(), 1)
  t.is(codes(second).at(-1), 'OK')
  await queues.shutdown()
  second.close()
})

test.serial('gRPC over TLS: https:// with a certificate from a trusted CA', async (t) => {
  const tls = join(__dirname, 'fixtures', 'tls')
  const server = await GrpcTestServer.start({ tls: { key: readFileSync(join(tls, 'server.key')), cert: readFileSync(join(tls, 'server.pem')) } })
  t.true(server.uri.startsWith('https://localhost:'))
  // rustls-platform-verifier reads the system's roots through rustls-native-certs, which honours
  // SSL_CERT_FILE: the test CA is the only root here.
  const queues = await withCertFile(join(tls, 'ca.pem'), () => customQueue(server))
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  const stats = await queues.flush()
  t.like(stats.custom, { published: 1, failed: 0 })
  t.deepEqual(customValues(server.documents()), [1])
  t.is(server.logins(), 1)
  await queues.shutdown()

  // Without that CA, the same server is not trusted: the handshake fails, and says why.
  const errors: ScouterQueueError[] = []
  const untrusted = await withCertFile(join(tls, 'server.pem'), () => customQueue(server, { maxRetries: 0 }, errors))
  untrusted.get('custom').insert(Metrics.fromObject({ mae: 2 }))
  t.like((await untrusted.shutdown()).custom, { failed: 1, published: 0 })
  await reported(errors, 1)
  t.regex(errors[0]!.message, /Login as `admin` failed: Unavailable: .*certificate/i)
  t.is(server.documents().length, 1)
  server.close()
})

test.serial('gRPC: https:// selects TLS: against a plaintext server the handshake error is reported', async (t) => {
  const server = await GrpcTestServer.start()
  const errors: ScouterQueueError[] = []
  const tlsUri = server.uri.replace('http://', 'https://')
  const queues = await withCertFile(join(__dirname, 'fixtures', 'tls', 'ca.pem'), () =>
    ScouterQueue.fromPath({ custom: uidProfiles.custom }, new GrpcConfig({ serverUri: tlsUri, maxRetries: 0 }), { onError: (error) => errors.push(error) }),
  )
  queues.get('custom').insert(Metrics.fromObject({ mae: 1 }))
  t.like((await queues.shutdown()).custom, { failed: 1, published: 0 })
  await reported(errors, 1)
  t.log(errors[0]!.message)
  t.regex(errors[0]!.message, /Login as `admin` failed: Unavailable: .*(tls|TLS|corrupt message|InvalidContentType|handshake)/)
  t.is(server.calls.length, 0, 'no call reached the plaintext server')
  server.close()
})

test('gRPC: options fall back to SCOUTER_GRPC_URI and SCOUTER_USERNAME/PASSWORD, then the defaults; secrets never show', (t) => {
  const keys = ['SCOUTER_GRPC_URI', 'SCOUTER_USERNAME', 'SCOUTER_PASSWORD', 'SCOUTER_SERVER_URI'] as const
  withEnv(Object.fromEntries(keys.map((key) => [key, undefined])), () => {
    t.like(new GrpcConfig(), { kind: 'grpc', serverUri: 'http://localhost:50051', username: 'admin', timeoutMs: 60000, connectTimeoutMs: 10000, maxRetries: 3 })
    t.like(new GrpcConfig()[toBinding]().config, { password: 'admin' })
    process.env.SCOUTER_SERVER_URI = 'http://http-only:8000'
    t.is(new GrpcConfig().serverUri, 'http://localhost:50051', 'the HTTP transport’s variable is not the gRPC one')
    process.env.SCOUTER_GRPC_URI = 'https://scouter.example:50051'
    process.env.SCOUTER_USERNAME = 'env-user'
    process.env.SCOUTER_PASSWORD = 'env-pa55'
    const config = new GrpcConfig({ timeoutMs: 1234, connectTimeoutMs: 567, maxRetries: 0 })
    t.like(config, { serverUri: 'https://scouter.example:50051', username: 'env-user', timeoutMs: 1234, connectTimeoutMs: 567, maxRetries: 0 })
    t.deepEqual(config[toBinding]().config, {
      kind: 'grpc',
      serverUri: 'https://scouter.example:50051',
      username: 'env-user',
      password: 'env-pa55',
      timeoutMs: 1234,
      connectTimeoutMs: 567,
      maxRetries: 0,
    })
    t.like(new GrpcConfig({ username: 'explicit', password: 'explicit-pw' })[toBinding]().config, { username: 'explicit', password: 'explicit-pw' })
    const withUserinfo = new GrpcConfig({ serverUri: 'http://svc:uri-s3cret@127.0.0.1:50051' })
    t.is(withUserinfo.serverUri, 'http://127.0.0.1:50051')
    t.like(withUserinfo[toBinding]().config, { username: 'svc', password: 'uri-s3cret' })
    for (const shown of [config, withUserinfo]) {
      for (const printed of [String(shown), JSON.stringify(shown), inspect(shown), JSON.stringify({ ...shown }), inspect({ ...shown }), JSON.stringify(Object.entries(shown))]) {
        t.false(/env-pa55|uri-s3cret/.test(printed), printed)
      }
      t.true(String(shown).includes('[redacted]'))
    }
  })
})

test('gRPC: bad options are refused before anything starts, without echoing secrets', async (t) => {
  for (const serverUri of ['localhost:50051', 'grpc://h:1', 'http://', '']) {
    t.throws(() => new GrpcConfig({ serverUri }), { instanceOf: ConfigError, message: /serverUri/ }, serverUri)
  }
  const error = t.throws(() => new GrpcConfig({ serverUri: 'ftp://u:s3cret@h:1' }), { instanceOf: ConfigError })
  t.false(error!.message.includes('s3cret'), error!.message)
  for (const timeoutMs of [0, -1, 1.5, NaN, 2 ** 31, '1000' as never]) {
    t.throws(() => new GrpcConfig({ timeoutMs }), { instanceOf: ConfigError, message: /timeoutMs/ })
    t.throws(() => new GrpcConfig({ connectTimeoutMs: timeoutMs }), { instanceOf: ConfigError, message: /connectTimeoutMs/ })
  }
  t.throws(() => new GrpcConfig({ maxRetries: 101 }), { instanceOf: ConfigError, message: /maxRetries/ })
  t.throws(() => new GrpcConfig({ password: 42 as never }), { instanceOf: ConfigError, message: /option `password` must be a string, got a number/ })
  // What the TypeScript layer lets through, the core checks too (the URI must parse).
  const config = new GrpcConfig({ serverUri: 'http://u:s3cret@bad host:1' })
  const rejected = await t.throwsAsync(ScouterQueue.fromPath({ custom: uidProfiles.custom }, config), { instanceOf: ConfigError, message: /serverUri/ })
  t.false(rejected!.message.includes('s3cret'), rejected!.message)
})

test('gRPC: a v0.9 profile is a ConfigError at fromPath, naming the alias and why, also as one member of a failover list', async (t) => {
  const server = await GrpcTestServer.start()
  for (const transport of [new GrpcConfig({ serverUri: server.uri }), [new FileConfig({ path: join(tempDir(), 'out.jsonl') }), new GrpcConfig({ serverUri: server.uri })]]) {
    const error = await t.throwsAsync(ScouterQueue.fromPath({ custom: uidProfiles.custom, old: profiles.psi }, transport), { instanceOf: ConfigError })
    t.regex(error!.message, /the grpc transport needs drift profiles of Scouter 0\.14 or later/)
    t.regex(error!.message, /alias 'old' \(.*psi_profile\.json\) is a v0\.9 profile/)
  }
  t.is(server.logins(), 0, 'refused before anything was sent')
  server.close()
})
