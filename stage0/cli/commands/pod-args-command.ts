// Shared commander wiring for run, prepare and run-prepared: commander only collects the raw words (per-app
// flags follow their image, which commander cannot express) and app-args.ts parses them.
import type { Command } from 'commander';

/** Registers `name` so that every word after it reaches the handler unparsed (help still works). */
export function rawArgsCommand(parent: Command, name: string, description: string, usage: string): Command {
  return parent
    .command(name)
    .description(description)
    .usage(usage)
    .argument('[args...]', 'images, flags and app arguments')
    .helpOption('-h, --help', 'display help for command')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .passThroughOptions(true);
}
