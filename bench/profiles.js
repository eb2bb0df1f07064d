// Inputs of the benchmarks. Drift profiles derived from the scouter-ml 0.9.0 fixtures so both
// implementations load the same files (a PSI profile monitoring ten numeric features, a Custom
// profile with three metrics; each also in the 0.25 format), the fixtures themselves, and the rows
// inserted.
'use strict'

const { mkdtempSync, readFileSync, writeFileSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')

const FIXTURES = join(__dirname, '..', '__test__', 'fixtures')
const FEATURES = Array.from({ length: 10 }, (_, i) => `feature_${i}`)
const METRICS = ['mae', 'mape', 'rmse']

function benchProfiles() {
  const dir = mkdtempSync(join(tmpdir(), 'scouter-bench-'))
  const psi = JSON.parse(readFileSync(join(FIXTURES, 'psi_profile.json'), 'utf8'))
  const bins = psi.features.feature_0
  psi.features = Object.fromEntries(FEATURES.map((name) => [name, { ...bins, id: name }]))
  psi.config.alert_config.features_to_monitor = FEATURES
  psi.config.feature_map = { features: {} }
  const custom = JSON.parse(readFileSync(join(FIXTURES, 'custom_profile.json'), 'utf8'))
  custom.metrics = Object.fromEntries(METRICS.map((name) => [name, 1]))
  const paths = { psi: join(dir, 'psi10.json'), custom: join(dir, 'custom3.json'), psi25: join(dir, 'psi10_0_25.json'), custom25: join(dir, 'custom3_0_25.json') }
  writeFileSync(paths.psi, JSON.stringify(psi))
  writeFileSync(paths.custom, JSON.stringify(custom))
  // The same profiles in the 0.25 format: a uid is all that tells them apart.
  writeFileSync(paths.psi25, JSON.stringify(withUid(psi, '0197f3a0-0000-7000-8000-0000000000b1')))
  writeFileSync(paths.custom25, JSON.stringify(withUid(custom, '0197f3a0-0000-7000-8000-0000000000b2')))
  return paths
}

/** A v0.9 profile as scouter-ml 0.25 would write it: `config.uid` and `scouter_version`. */
function withUid(profile, uid) {
  return { ...profile, config: { ...profile.config, uid }, scouter_version: '0.25.0' }
}

const VALUES = Float64Array.from({ length: 1024 }, (_, i) => (i % 97) / 9.7)

/** Row `i` of the benchmarks' input: the ten features, cycling through 1024 values in 0..10. */
function benchRow(i) {
  const b = i & 1023
  return { feature_0: VALUES[b], feature_1: VALUES[(b + 1) & 1023], feature_2: VALUES[(b + 2) & 1023], feature_3: VALUES[(b + 3) & 1023], feature_4: VALUES[(b + 4) & 1023], feature_5: VALUES[(b + 5) & 1023], feature_6: VALUES[(b + 6) & 1023], feature_7: VALUES[(b + 7) & 1023], feature_8: VALUES[(b + 8) & 1023], feature_9: VALUES[(b + 9) & 1023] }
}

/** The four scouter-ml 0.9.0 fixture profiles, one of each kind. */
function fixtureProfiles() {
  return Object.fromEntries(['spc', 'psi', 'custom', 'llm'].map((kind) => [kind, join(FIXTURES, `${kind}_profile.json`)]))
}

module.exports = { benchProfiles, benchRow, fixtureProfiles, FEATURES, METRICS }
