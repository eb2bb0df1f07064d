// The broker fault suites (__test__/faults-*.spec.ts) kill and pause the shared brokers, so they
// never run beside the other suites: scripts/test.sh runs them in a step of their own, one file
// at a time, with this config. Everything else is as in package.json's "ava".
const base = require('./package.json').ava

module.exports = {
  ...base,
  files: ['__test__/faults-*.spec.ts'],
  concurrency: 1,
  timeout: '5m',
}
