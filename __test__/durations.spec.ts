/**
 * Every duration that comes from JavaScript is checked before it reaches a timer: `timeoutMs` of
 * `flush`/`shutdown` (TypeError, RangeError outside [0, 2147483647]), the duration options of
 * `fromPath` (TypeError here, ConfigError from the native core outside its range), and the time
 * limits of the transport configs. 2147483647 ms (2^31 - 1) is the limit everywhere.
 */
import test from 'ava'

import { ConfigError, HttpConfig, KafkaConfig, MockConfig, ScouterQueue } from '../ts/index'
import { runInChild } from './helpers/child'
import { profiles } from './helpers/fixtures'

const MAX = 2_147_483_647

test('flush(timeoutMs) takes a finite number of milliseconds from 0 to 2147483647', async (t) => {
  const queues = await ScouterQueue.fromPath({ psi: profiles.psi }, new MockConfig())
  for (const bad of [1e300, MAX + 1, -1, -Infinity, Infinity, NaN]) {
    await t.throwsAsync(queues.flush(bad), { instanceOf: RangeError, message: /from 0 to 2147483647/ }, String(bad))
  }
  for (const bad of ['1', 1n, null, {}]) {
    await t.throwsAsync(queues.flush(bad as any), { instanceOf: TypeError }, String(bad))
  }
  await t.notThrowsAsync(queues.flush(0))
  await t.notThrowsAsync(queues.flush(MAX))
  t.throws(() => queues.shutdown(1e300), { instanceOf: RangeError })
  t.throws(() => queues.shutdown(null as any), { instanceOf: TypeError })
  await t.notThrowsAsync(queues.shutdown(MAX))
})

test('duration and size options of fromPath must be numbers (TypeError)', async (t) => {
  for (const key of ['flushIntervalMs', 'connectTimeoutMs', 'flushTimeoutMs', 'maxPendingItems', 'maxPendingBytes'] as const) {
    for (const bad of ['1000', 1000n, null, true, {}]) {
      await t.throwsAsync(ScouterQueue.fromPath(profiles, new MockConfig(), { [key]: bad } as any), {
        instanceOf: TypeError,
        message: new RegExp(`${key} must be a number`),
      })
    }
  }
})

/** How `fromPath` with one option settles, in a child process, since an abort would end the test process. */
async function openWith(key: string, value: number): Promise<string> {
  const child = await runInChild(`
    try {
      const queues = await lib.ScouterQueue.fromPath({ psi: fixtures.psi }, new lib.MockConfig(), { ${key}: ${value} })
      await queues.shutdown(1000)
      console.log('opened')
    } catch (error) {
      console.log(error.constructor.name + ': ' + error.message)
    }
  `)
  return child.code === 0 ? child.stdout.trim() : `exit ${child.code ?? child.signal}: ${child.stderr.trim().split('\n')[0]}`
}

for (const key of ['flushIntervalMs', 'connectTimeoutMs', 'flushTimeoutMs']) {
  test(`${key} beyond 2147483647 ms is a ConfigError, never an abort`, async (t) => {
    const [huge, justOver, max] = await Promise.all([openWith(key, 1e300), openWith(key, MAX + 1), openWith(key, MAX)])
    t.regex(huge, new RegExp(`^ConfigError: .*${key}`))
    t.regex(justOver, new RegExp(`^ConfigError: .*${key}`))
    t.is(max, 'opened')
  })
}

test('transport time limits are at most 2147483647 ms (ConfigError)', (t) => {
  t.throws(() => new KafkaConfig({ messageTimeoutMs: MAX + 1 }), { instanceOf: ConfigError, message: /messageTimeoutMs/ })
  t.throws(() => new KafkaConfig({ messageTimeoutMs: 1e300 }), { instanceOf: ConfigError })
  t.is(new KafkaConfig({ messageTimeoutMs: MAX }).messageTimeoutMs, MAX)
  t.throws(() => new HttpConfig({ timeoutMs: MAX + 1 }), { instanceOf: ConfigError, message: /timeoutMs/ })
  t.throws(() => new HttpConfig({ timeoutMs: 1e300 }), { instanceOf: ConfigError })
  t.is(new HttpConfig({ timeoutMs: MAX }).timeoutMs, MAX)
})
