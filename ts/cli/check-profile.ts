/**
 * `scouter-queue check-profile FILE...`: loads each drift profile with the loader `fromPath` uses
 * (the same checks, the same `ProfileError` naming the file and the field) and says, per file,
 * what it is or what is wrong. Exit 1 when any profile does not load.
 * @internal
 */
import type { Command } from 'commander'

import native = require('../native')
import { errorFromBinding, ProfileError } from '../errors'
import { EXIT_FAILURE, EXIT_OK, printer } from './output'

/** Registers the command on `program`. */
export function registerCheckProfile(program: Command): void {
  program
    .command('check-profile')
    .description('check drift profile files as ScouterQueue.fromPath would load them')
    .argument('<file...>', 'drift profile JSON files (as written by scouter-ml save_to_json)')
    .addHelpText(
      'after',
      '\nPrints one line per file: what a good profile is (kind, space/name/version, wire format),\n' +
        'or the problem with its file and field path. Exits 1 when any profile is invalid.\n\n' +
        'Example:\n  $ scouter-queue check-profile psi.json spc.json',
    )
    .action((files: string[]) => {
      process.exitCode = checkProfiles(files)
    })
}

/** Checks `files`, printing one line each (and any warnings); the exit code. */
export function checkProfiles(files: readonly string[]): number {
  const out = printer(process.stdout)
  const c = out.c
  let invalid = 0
  for (const file of files) {
    const result = native.checkProfile(file)
    if ('code' in result) {
      invalid += 1
      const error = errorFromBinding(result)
      // The message names the file already ("invalid drift profile FILE: field `a.b` ..."); the
      // line starts with it instead, as the good files' lines do.
      const prefix = `invalid drift profile ${error instanceof ProfileError ? (error.file ?? file) : file}: `
      const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message
      out.line(`${c.red('error')} ${file}: ${reason}`)
      continue
    }
    const identity = `${result.space}/${result.name}/v${result.version}`
    const uid = result.uid === undefined || result.uid === null ? '' : ` uid ${result.uid}`
    out.line(`${c.green('ok')}    ${file}: ${c.cyan(result.kind)} ${c.bold(identity)}${uid} (format ${result.format})`)
    for (const warning of result.warnings) {
      // The core's warnings start with the file they are about, as `fromPath` emits them.
      const text = warning.startsWith(`${file}: `) ? warning.slice(file.length + 2) : warning
      out.line(`${c.yellow('warn')}  ${file}: ${text}`)
    }
  }
  const summary = `${files.length} profile${files.length === 1 ? '' : 's'} checked: ${files.length - invalid} ok, ${invalid} invalid`
  out.line(invalid === 0 ? summary : c.red(summary))
  return invalid === 0 ? EXIT_OK : EXIT_FAILURE
}
