// Shared commander wiring for run, prepare, run-prepared, app sandbox and app add: commander only collects the
// raw words (per-app flags follow their image, which commander cannot express) and app-args.ts parses them.
// Their flags are therefore not commander options: --help lists them from pod-flags.ts instead.
import type { Command } from 'commander';
import type { PodCommand } from '../../pod/pod-args.js';
import { podFlagsHelp } from '../pod-flags-help.js';

const podCommands = new WeakMap<Command, PodCommand>();

/** Registers `name` so that every word after it reaches the handler unparsed (help still works). */
export function rawArgsCommand(parent: Command, name: string, grammar: PodCommand, description: string, usage: string): Command {
  const cmd = parent
    .command(name)
    .description(description)
    .usage(usage)
    .argument('[args...]', 'images, flags and app arguments (see the flags below)')
    .helpOption('-h, --help', 'display help for command')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .passThroughOptions(true)
    .addHelpText('after', podFlagsHelp(grammar));
  podCommands.set(cmd, grammar);
  return cmd;
}

/** The pod grammar a command registered with rawArgsCommand parses, for tools that list every command's flags. */
export function podGrammarOf(cmd: Command): PodCommand | undefined {
  return podCommands.get(cmd);
}
