// Writes the README's option tables from the option table of the native core
// (src/core/options.rs, read through the addon's `optionTable()`), so the documentation cannot
// drift from the defaults and rules the code applies. Each table sits between
// `<!-- options:SCOPE -->` and `<!-- /options:SCOPE -->`.
//
//   node scripts/options-table.js           rewrite README.md
//   node scripts/options-table.js --check   exit 1 if README.md is not what it would write
'use strict'

const { readFileSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')

const README = join(__dirname, '..', 'README.md')

/** A default or bound as the README shows it. */
function shown(value) {
  if (value === undefined || value === null) return 'unset'
  if (typeof value === 'string') return value === '' ? '`""`' : `\`${value}\``
  return String(value)
}

/** The rule of a row in words. */
function ruleText(spec) {
  switch (spec.rule) {
    case 'text':
      return 'a string'
    case 'oneOf':
      return `${spec.values.map((value) => `\`${value}\``).join(', ')}${spec.anyCase ? ' (any case)' : ''}`
    case 'whole':
      return `whole number, ${spec.min} to ${spec.max}`
    case 'millis':
      return `milliseconds, ${spec.min} to ${spec.max}`
    default:
      throw new Error(`unknown rule ${spec.rule}`)
  }
}

/** The Markdown table of one scope's options. */
function renderScope(rows, scope) {
  const lines = ['| option | env var | default | accepts | what it does |', '| --- | --- | --- | --- | --- |']
  for (const spec of rows.filter((row) => row.scope === scope)) {
    const env = spec.env.length === 0 ? '' : spec.env.map((name) => `\`${name}\``).join(', then ')
    const secret = spec.secret ? ' Never printed.' : ''
    lines.push(`| \`${spec.name}\` | ${env} | ${shown(spec.default)} | ${ruleText(spec)} | ${spec.summary}.${secret} |`)
  }
  return lines.join('\n')
}

/** `readme` with every marked table replaced by what the option table says. */
function renderReadme(readme, rows) {
  return readme.replace(/(<!-- options:([a-z]+) -->)[\s\S]*?(<!-- \/options:\2 -->)/g, (_, open, scope, close) => {
    if (!rows.some((row) => row.scope === scope)) throw new Error(`README marks options:${scope}, which the table does not have`)
    return `${open}\n${renderScope(rows, scope)}\n${close}`
  })
}

module.exports = { renderReadme, renderScope }

if (require.main === module) {
  const rows = require('../index.js').optionTable()
  const readme = readFileSync(README, 'utf8')
  const rendered = renderReadme(readme, rows)
  if (process.argv.includes('--check')) {
    if (rendered !== readme) {
      console.error('README.md option tables are out of date: run `node scripts/options-table.js`')
      process.exit(1)
    }
  } else if (rendered !== readme) {
    writeFileSync(README, rendered)
    console.log('README.md option tables rewritten')
  }
}
