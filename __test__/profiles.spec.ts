import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'

import { ConfigError, Features, Metrics, MockConfig, ProfileError, ScouterQueue } from '../ts/index'
import { editedProfile, profiles, rawProfile, tempDir, uidProfiles } from './helpers/fixtures'

test('the four fixture profiles load with their identifiers', async (t) => {
  const queues = await ScouterQueue.fromPath(profiles, new MockConfig())
  t.deepEqual(queues.aliases, ['custom', 'llm', 'psi', 'spc'])
  t.is(queues.get('spc').identifier, 'scouter/spc_model/v0.1.0/spc')
  t.is(queues.get('psi').identifier, 'scouter/psi_model/v0.1.0/psi')
  t.is(queues.get('custom').identifier, 'scouter/custom_model/v0.1.0/custom')
  t.is(queues.get('llm').identifier, 'scouter/llm_metrics/v0.0.1/llm')
  t.is(queues.get('psi').kind, 'psi')
  await queues.shutdown()
})

test('drift_type in any letter case chooses the kind', async (t) => {
  const path = editedProfile('psi', (p) => (p.config.drift_type = 'pSI'))
  const queues = await ScouterQueue.fromPath({ p: path }, new MockConfig())
  t.is(queues.get('p').kind, 'psi')
  await queues.shutdown()
})

/** Each bad profile, the field the error must name (null: the file itself). */
const badProfiles: Array<[string, () => string, string | null, RegExp]> = [
  ['missing file', () => '/nonexistent/dir/psi_profile.json', null, /cannot be read/],
  ['not JSON', () => rawProfile('{ "config": '), null, /not valid JSON/],
  ['JSON but not an object', () => rawProfile('[1, 2, 3]'), null, /must be a JSON object/],
  ['no config', () => rawProfile('{"features": {}}'), 'config', /is missing/],
  ['no drift_type', () => editedProfile('spc', (p) => delete p.config.drift_type), 'config.drift_type', /is missing/],
  ['unknown drift_type', () => editedProfile('spc', (p) => (p.config.drift_type = 'KS')), 'config.drift_type', /"KS"/],
  ['no space', () => editedProfile('psi', (p) => delete p.config.space), 'config.space', /is missing/],
  ['no sample_size', () => editedProfile('spc', (p) => delete p.config.sample_size), 'config.sample_size', /is missing/],
  ['sample_size 0', () => editedProfile('custom', (p) => (p.config.sample_size = 0)), 'config.sample_size', /greater than 0/],
  ['sample_size a string', () => editedProfile('spc', (p) => (p.config.sample_size = '25')), 'config.sample_size', /invalid type/],
  ['PSI feature with no bins', () => editedProfile('psi', (p) => (p.features.feature_0.bins = [])), 'features.feature_0.bins', /at least one bin/],
  ['PSI bad limit', () => editedProfile('psi', (p) => (p.features.feature_0.bins[2].upper_limit = 'big')), 'features.feature_0.bins[2].upper_limit', /-inf/],
  ['PSI unknown bin_type', () => editedProfile('psi', (p) => (p.features.color.bin_type = 'Ordinal')), 'features.color.bin_type', /Ordinal/],
  ['no features_to_monitor', () => editedProfile('psi', (p) => delete p.config.alert_config.features_to_monitor), 'config.alert_config.features_to_monitor', /is missing/],
  ['feature_map code not an integer', () => editedProfile('spc', (p) => (p.config.feature_map.features.color.red = 0.5)), 'config.feature_map.features.color.red', /invalid type/],
  ['Custom without metrics', () => editedProfile('custom', (p) => delete p.metrics), 'metrics', /is missing/],
  ['LLM sample_rate 0', () => editedProfile('llm', (p) => (p.config.sample_rate = 0)), 'config.sample_rate', /greater than 0/],
]

for (const [what, path, field, reason] of badProfiles) {
  test(`bad profile rejects fromPath naming file and field: ${what}`, async (t) => {
    const file = path()
    const error = await t.throwsAsync(ScouterQueue.fromPath({ good: profiles.psi, bad: file }, new MockConfig()), {
      instanceOf: ProfileError,
    })
    t.is(error.code, 'SCOUTER_PROFILE_INVALID')
    t.is(error.file, file)
    t.is(error.field, field ?? undefined)
    t.true(error.message.includes(file), error.message)
    if (field) t.true(error.message.includes(`\`${field}\``), error.message)
    t.regex(error.message, reason)
  })
}

test('an upper-case Custom metric loads with one warning', async (t) => {
  const path = editedProfile('custom', (p) => (p.metrics.MAE = 1))
  const warnings: Error[] = []
  const listener = (w: Error) => warnings.push(w)
  process.on('warning', listener)
  try {
    const queues = await ScouterQueue.fromPath({ c: path }, new MockConfig())
    await new Promise((resolve) => setImmediate(resolve))
    await queues.shutdown()
  } finally {
    process.off('warning', listener)
  }
  const ours = warnings.filter((w) => (w as { code?: string }).code === 'SCOUTER_PROFILE_WARNING')
  t.is(ours.length, 1)
  t.regex(ours[0]!.message, /MAE/)
})

test('fromPath checks its arguments with TypeError', async (t) => {
  await t.throwsAsync(ScouterQueue.fromPath('psi.json' as any), { instanceOf: TypeError })
  await t.throwsAsync(ScouterQueue.fromPath({}), { instanceOf: TypeError, message: /at least one/ })
  await t.throwsAsync(ScouterQueue.fromPath({ a: 3 as any }), { instanceOf: TypeError, message: /alias 'a'/ })
  await t.throwsAsync(ScouterQueue.fromPath(profiles, { kind: 'mock' } as any), { instanceOf: TypeError, message: /transport/ })
  await t.throwsAsync(ScouterQueue.fromPath(profiles, new MockConfig(), { onError: 'x' as any }), { instanceOf: TypeError })
  await t.throwsAsync(ScouterQueue.fromPath(profiles, new MockConfig(), { maxPendingItems: '5' as any }), {
    instanceOf: TypeError,
  })
})

test('unusable options reject with ConfigError naming the option', async (t) => {
  const error = await t.throwsAsync(ScouterQueue.fromPath(profiles, new MockConfig(), { maxPendingItems: 0 }), {
    instanceOf: ConfigError,
  })
  t.is(error.code, 'SCOUTER_CONFIG_INVALID')
  t.regex(error.message, /maxPendingItems/)
  const interval = await t.throwsAsync(ScouterQueue.fromPath(profiles, new MockConfig(), { flushIntervalMs: -5 }))
  t.regex(interval.message, /flushIntervalMs/)
})

test('a profile path that is not a regular file (a FIFO, a directory) rejects at once with ProfileError', async (t) => {
  const fifo = join(tempDir(), 'profile.fifo')
  execFileSync('mkfifo', [fifo])
  // Reading a FIFO blocks until a writer comes: fromPath must refuse it, not wait. A deadline
  // (not a sleep) turns "never settles" into a failure instead of a hung suite.
  let deadline: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => (deadline = setTimeout(resolve, 1000, 'late')))
  const outcome = await Promise.race([ScouterQueue.fromPath({ psi: fifo }, new MockConfig()).then(
    () => 'opened',
    (error: unknown) => error,
  ), late])
  clearTimeout(deadline)
  t.true(outcome instanceof ProfileError, `fromPath settled with ${String(outcome)}`)
  const error = outcome as ProfileError
  t.is(error.file, fifo)
  t.regex(error.message, /not a regular file \(a FIFO\)/)
  t.true(error.message.includes(fifo))

  const dir = tempDir()
  const notFile = await t.throwsAsync(ScouterQueue.fromPath({ psi: dir }, new MockConfig()), { instanceOf: ProfileError })
  t.is(notFile.file, dir)
  t.regex(notFile.message, /not a regular file \(a directory\)/)
})

test('fromProfiles: profile objects load as files do, in both formats, with the same ProfileErrors', async (t) => {
  const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  const mock = new MockConfig()
  const queues = await ScouterQueue.fromProfiles({ psi: read(profiles.psi), custom25: read(uidProfiles.custom) }, mock)
  t.deepEqual([queues.get('psi').format, queues.get('custom25', 'custom').format], ['v0.9', '0.25'])
  queues.get('custom25', 'custom').insert(Metrics.fromObject({ mae: 2 }))
  queues.get('psi', 'psi').insert(Features.fromObject({ feature_0: 0.5 }))
  const stats = await queues.shutdown()
  t.like(stats.custom25, { published: 1 })
  t.like(stats.psi, { published: 1 })
  t.is(mock.documents().length, 2)

  const noUid = read(uidProfiles.spc)
  delete (noUid.config as Record<string, unknown>).uid
  const error = await t.throwsAsync(ScouterQueue.fromProfiles({ spc: noUid }, new MockConfig()), { instanceOf: ProfileError })
  t.is(error?.field, 'config.uid')
  t.is(error?.file, undefined, 'no file')
  t.regex(error?.message ?? '', /the profile object of alias 'spc'/)

  await t.throwsAsync(ScouterQueue.fromProfiles({ spc: 'spc_profile.json' as never }, new MockConfig()), { instanceOf: TypeError, message: /must be a plain object/ })
  await t.throwsAsync(ScouterQueue.fromProfiles({ spc: { config: { n: 1n } } as never }, new MockConfig()), { instanceOf: TypeError, message: /cannot be serialized/ })
  await t.throwsAsync(ScouterQueue.fromProfiles([] as never, new MockConfig()), { instanceOf: TypeError })
})
