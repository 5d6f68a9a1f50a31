// The shape every command module has, and the binder that turns a handler into a commander action.
import type { Command } from 'commander';
import type { CommandContext } from '../context/context.js';

export type ActionBinder = <A extends unknown[]>(
  commandName: string,
  handler: (ctx: CommandContext, ...args: A) => Promise<number>,
) => (...args: A) => Promise<void>;

export interface CommandModule {
  /** Adds the command (and its subcommands) to the parent program. */
  register(parent: Command, bind: ActionBinder): void;
}
