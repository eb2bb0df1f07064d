// Quick start: publish through all four v0.9 drift kinds, and a GenAI eval queue whose profile is
// in the 0.25 format (Scouter 0.14+ servers), to the File transport (the embedded default, no
// server needed) and show what was written.
//
//   bash scripts/quickstart.sh          (installs, builds, then runs this file)
//   node examples/quickstart.js         (once built)
'use strict'

const { readFileSync, statSync, existsSync } = require('node:fs')
const { join } = require('node:path')
const { ScouterQueue, Feature, Features, Metric, Metrics, LLMRecord, EvalRecord, FileConfig } = require('scouter-queue')

const profiles = join(__dirname, '..', '__test__', 'fixtures')

async function main() {
  const transport = new FileConfig() // SCOUTER_FILE_PATH, else ./scouter-records.jsonl
  const startAt = existsSync(transport.path) ? statSync(transport.path).size : 0

  const queues = await ScouterQueue.fromPath(
    {
      spc: join(profiles, 'spc_profile.json'),
      psi: join(profiles, 'psi_profile.json'),
      custom: join(profiles, 'custom_profile.json'),
      llm: join(profiles, 'llm_profile.json'),
      genai: join(profiles, 'v0_25', 'genai_eval_profile.json'), // 0.25 format: the profile has a uid
    },
    transport,
    { onError: (error, alias) => console.error(`[${alias}] ${error.message}`) },
  )

  // A service would do this on its hot path, once per prediction.
  const colors = ['red', 'green', 'blue']
  for (let i = 0; i < 2500; i++) {
    const x = (i % 100) / 10 // 0.0 .. 9.9
    const color = colors[i % 3]
    queues.get('psi').insert(Features.fromObject({ feature_0: x, color }))
    queues.get('spc').insert(new Features([Feature.float('feature_0', x), Feature.float('feature_1', -x / 4), Feature.string('color', color)]))
  }
  for (let i = 0; i < 30; i++) {
    queues.get('custom').insert(new Metrics([new Metric('mae', 1 + (i % 5) / 10), new Metric('mape', 12)]))
  }
  queues.get('llm').insert(new LLMRecord({ context: { input: 'What is drift?', response: 'A change in data over time.' } }))
  queues.get('genai').insert(new EvalRecord({ context: { input: 'What is drift?', response: 'A change in data over time.' } }).addTag('env', 'quickstart'))

  const stats = await queues.shutdown() // flush everything, wait for the file, stop
  console.log(`published to ${transport.path}:`)
  for (const [alias, s] of Object.entries(stats)) {
    console.log(`  ${alias.padEnd(6)} (${queues.get(alias).format.padEnd(4)}) inserted ${s.inserted}, published ${s.published}, records ${s.records}, documents ${s.documents}, failed ${s.failed}, pending ${s.pending}`)
  }

  const written = readFileSync(transport.path).subarray(startAt).toString('utf8').trim().split('\n')
  console.log(`\n${written.length} documents written (one JSON line each); the first of each kind:`)
  const shown = new Set()
  for (const line of written) {
    const doc = JSON.parse(line)
    const kind = Object.keys(doc.records[0])[0]
    if (shown.has(kind)) continue
    shown.add(kind)
    console.log(`\n${kind}: ${doc.records.length} records, e.g.`)
    console.log(JSON.stringify(doc.records[0]))
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
