// Drift profiles for the benchmarks, derived from the scouter-ml 0.9.0 fixtures so both
// implementations load the same files: a PSI profile monitoring ten numeric features, and a
// Custom profile with three metrics.
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
  const paths = { psi: join(dir, 'psi10.json'), custom: join(dir, 'custom3.json') }
  writeFileSync(paths.psi, JSON.stringify(psi))
  writeFileSync(paths.custom, JSON.stringify(custom))
  return paths
}

module.exports = { benchProfiles, FEATURES, METRICS }
