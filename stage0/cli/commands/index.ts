// The command table: one module per `rkt` subcommand, registered in this order.
import type { CommandModule } from '../registry.js';
import { versionCommand } from './version.js';
import { configCommand } from './config.js';

export const COMMANDS: readonly CommandModule[] = [versionCommand, configCommand];
