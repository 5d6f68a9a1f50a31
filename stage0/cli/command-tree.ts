// The root program with every command registered and actions that do nothing: what tools that read the
// whole tree (the completion script, the flags/docs style test) walk, built as main.ts builds it.
import type { Command } from 'commander';
import { COMMANDS } from './commands/index.js';
import { createProgram } from './program.js';
import type { ActionBinder } from './registry.js';

export async function loadCommandTree(): Promise<Command> {
  const program = createProgram();
  const bind: ActionBinder = () => async () => undefined;
  for (const entry of COMMANDS) (await entry.load()).register(program, bind);
  return program;
}
