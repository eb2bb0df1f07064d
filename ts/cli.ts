#!/usr/bin/env node
/**
 * The `scouter-queue` command line, for the people who operate a service that uses the package:
 * `check-profile`, `tail` and `replay`. Not part of the library's API (nothing here is exported
 * from the package); `package.json`'s `bin` points at its build, `dist/cli.js`. Each command
 * lives in its own file under `cli/`.
 *
 * Exit codes: 0 done, 1 the work failed, 2 the command line was wrong (a usage error).
 * @internal
 */
import { Command, CommanderError } from 'commander'

import { registerCheckProfile } from './cli/check-profile'
import { EXIT_FAILURE, EXIT_USAGE, printer, UsageError } from './cli/output'
import { registerReplay } from './cli/replay'
import { registerTail } from './cli/tail'

const VERSION: string = (require('../package.json') as { version: string }).version

/** The program with every command registered. */
function program(): Command {
  const root = new Command('scouter-queue')
    .description('Operate scouter-queue: check drift profiles, read published documents back, re-publish them')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
  registerCheckProfile(root)
  registerTail(root)
  registerReplay(root)
  return root
}

/** Parses `argv`, runs the command, and sets the exit code. */
async function main(argv: string[]): Promise<void> {
  // A reader that went away (`... | head`) is not an error: what it did not read is not wanted.
  // Long-running commands also stop on it (see cli/signals.ts).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
  try {
    await program().parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE
      return
    }
    const err = printer(process.stderr)
    if (error instanceof UsageError) {
      err.line(`${err.c.red('error:')} ${error.message}`)
      err.line('(add --help for usage)')
      process.exitCode = EXIT_USAGE
      return
    }
    err.line(`${err.c.red('error:')} ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = EXIT_FAILURE
  }
}

void main(process.argv)
