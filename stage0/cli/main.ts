// Builds the commander program from the command table and runs it; returns the exit code.
import { CommanderError } from 'commander';
import { RktError } from '../../common/errors.js';
import { normalizeGlobalOptions, type RawGlobalFlags } from '../context/global-options.js';
import { makeOutput } from '../context/output.js';
import { PhaseClock, processStartNs } from '../../common/phase-clock.js';
import { ensureSuperuser } from './superuser.js';
import type { ActionBinder } from './registry.js';
import { entriesFor } from './commands/index.js';
import { createProgram } from './program.js';

export interface MainResult {
  exitCode: number;
  /** The command that ran, for the stderr prefix of an error. */
  command: string;
  debug: boolean;
}

export async function main(argv: readonly string[], result: MainResult): Promise<number> {
  const program = createProgram();

  const bind: ActionBinder = (commandName, handler) => async (...args) => {
    result.command = commandName;
    const raw = program.opts<RawGlobalFlags>();
    const globals = normalizeGlobalOptions(raw);
    result.debug = globals.debug;
    // after parsing, as rkt did: a usage error is reported as such, whoever runs it
    ensureSuperuser(commandName);
    const clock = new PhaseClock(processStartNs());
    clock.mark('start-up (node, modules, flags)');
    const ctx = { globals, output: makeOutput(commandName, globals.debug), command: commandName, clock };
    result.exitCode = await handler(ctx, ...args);
  };

  for (const entry of entriesFor(argv)) (await entry.load()).register(program, bind);

  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message; help and version are successes.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
      throw new RktError('USAGE', '', { exitCode: 2, cause: err });
    }
    throw err;
  }
  return result.exitCode;
}
