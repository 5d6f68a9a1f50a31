// `rkt api-service`: rkt's read-only gRPC API (v1alpha) in the foreground until SIGINT or SIGTERM.
import type { Command } from 'commander';
import type { CommandModule } from '../registry.js';
import { waitForStopSignal } from '../stop-signal.js';

export const apiServiceCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('api-service')
      .description('serve rkt\'s read-only gRPC API (v1alpha: pods, images, events, logs) over TCP; socket-activatable')
      .option('--listen <host:port>', 'address to listen on (port 0: any free port); not with a systemd socket unit', 'localhost:15441')
      .action(
        bind('api-service', async (ctx, flags: { listen: string }, cmd: Command) => {
          const { startApiServer } = await import('../../api/server.js');
          const g = ctx.globals;
          const stopped = waitForStopSignal();
          const server = await startApiServer({
            listen: { address: flags.listen, given: cmd.getOptionValueSource('listen') !== 'default' },
            dataDir: g.dir,
            globalFlags: {
              dir: g.dir,
              system_config_dir: g.systemConfig,
              local_config_dir: g.localConfig,
              user_config_dir: g.userConfig ?? '',
              insecure_flags: g.insecure.size === 0 ? 'none' : [...g.insecure].join(','),
              trust_keys_from_https: g.trustKeysFromHttps,
            },
            log: (line) => ctx.output.warn(line),
            debug: (line) => ctx.output.debug(line),
          });
          const sig = await stopped;
          ctx.output.debug(`${sig}: shutting down`);
          await server.close();
          return 0;
        }),
      );
  },
};
