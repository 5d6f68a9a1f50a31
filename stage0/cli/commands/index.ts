// The command table: each `rkt` subcommand and how to load its module. Only the module of the
// command being run is imported, so start-up stays small and one command's dependencies
// (openpgp for fetch and trust, say) never slow down another.
import type { CommandModule } from '../registry.js';

export interface CommandEntry {
  readonly name: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'version', load: async () => (await import('./version.js')).versionCommand },
  { name: 'config', load: async () => (await import('./config.js')).configCommand },
  { name: 'fetch', load: async () => (await import('./fetch.js')).fetchCommand },
  { name: 'trust', load: async () => (await import('./trust.js')).trustCommand },
  { name: 'image', load: async () => (await import('./image.js')).imageCommand },
  { name: 'prepare', load: async () => (await import('./prepare.js')).prepareCommand },
  { name: 'run', load: async () => (await import('./run.js')).runCommand },
  { name: 'run-prepared', load: async () => (await import('./run-prepared.js')).runPreparedCommand },
  { name: 'list', load: async () => (await import('./list.js')).listCommand },
  { name: 'status', load: async () => (await import('./status.js')).statusCommand },
  { name: 'stop', load: async () => (await import('./stop.js')).stopCommand },
  { name: 'rm', load: async () => (await import('./rm.js')).rmCommand },
  { name: 'gc', load: async () => (await import('./gc.js')).gcCommand },
  { name: 'export', load: async () => (await import('./export.js')).exportCommand },
  { name: 'cat-manifest', load: async () => (await import('./cat-manifest.js')).catManifestCommand },
  { name: 'app', load: async () => (await import('./app.js')).appCommand },
  { name: 'enter', load: async () => (await import('./enter.js')).enterCommand },
  { name: 'attach', load: async () => (await import('./attach.js')).attachCommand },
  { name: 'logs', load: async () => (await import('./logs.js')).logsCommand },
  { name: 'metadata-service', load: async () => (await import('./metadata-service.js')).metadataServiceCommand },
  { name: 'api-service', load: async () => (await import('./api-service.js')).apiServiceCommand },
  { name: 'cri', load: async () => (await import('./cri.js')).criCommand },
  { name: 'completion', load: async () => (await import('./completion.js')).completionCommand },
];

/** Global flags that take their value as the next argument (`--dir X`). */
const GLOBAL_FLAGS_WITH_VALUE = new Set(['--dir', '--local-config', '--system-config', '--user-config', '--insecure-options']);

/**
 * The entries to register for this argv: just the named command when there is one
 * (also for `rkt help <command>`), every entry otherwise (help, typos, no command).
 */
export function entriesFor(argv: readonly string[]): readonly CommandEntry[] {
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a.startsWith('-')) {
      i += GLOBAL_FLAGS_WITH_VALUE.has(a) ? 2 : 1;
      continue;
    }
    const word = a === 'help' ? argv[i + 1] : a;
    const hit = COMMANDS.find((c) => c.name === word);
    return hit ? [hit] : COMMANDS;
  }
  return COMMANDS;
}
