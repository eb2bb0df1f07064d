// What every benchmark shares at its end: the median of its rounds, and writing its results to
// bench/results/<name>.json (with the date and Node version) and <name>.md (the printed table).
'use strict'

const { mkdirSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function writeResults(name, data, lines) {
  const dir = join(__dirname, 'results')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ date: new Date().toISOString(), node: process.version, ...data }, null, 2) + '\n')
  writeFileSync(join(dir, `${name}.md`), lines.join('\n') + '\n')
}

module.exports = { median, writeResults }
