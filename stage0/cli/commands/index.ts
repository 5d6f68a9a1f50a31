// The command table: one module per `rkt` subcommand, registered in this order.
import type { CommandModule } from '../registry.js';
import { versionCommand } from './version.js';
import { configCommand } from './config.js';
import { fetchCommand } from './fetch.js';
import { trustCommand } from './trust.js';
import { imageCommand } from './image.js';
import { prepareCommand } from './prepare.js';
import { runCommand } from './run.js';
import { runPreparedCommand } from './run-prepared.js';
import { listCommand } from './list.js';
import { statusCommand } from './status.js';
import { stopCommand } from './stop.js';
import { rmCommand } from './rm.js';
import { gcCommand } from './gc.js';
import { catManifestCommand } from './cat-manifest.js';
import { enterCommand } from './enter.js';
import { logsCommand } from './logs.js';

export const COMMANDS: readonly CommandModule[] = [versionCommand, configCommand, fetchCommand, trustCommand, imageCommand,
  prepareCommand, runCommand, runPreparedCommand, listCommand, statusCommand, stopCommand, rmCommand, gcCommand,
  catManifestCommand, enterCommand, logsCommand];
