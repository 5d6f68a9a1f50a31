// `rkt metadata-service`: runs the appc Metadata Service in the foreground until SIGINT or SIGTERM.
import { isIP } from 'node:net';
import { RktError } from '../../../common/errors.js';
import { MDS_DEFAULT_PORT, mdsSocketPath, startMetadataService } from '../../metadata/index.js';
import type { CommandModule } from '../registry.js';
import { waitForStopSignal } from '../stop-signal.js';

function parsePort(s: string): number {
  if (!/^[0-9]{1,5}$/.test(s) || Number(s) > 65535) {
    throw new RktError('USAGE', `invalid --listen-port "${s}": expected a port number 0-65535`);
  }
  return Number(s);
}

export const metadataServiceCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('metadata-service')
      .description('run the appc metadata service (pods registered with --mds-register query it)')
      .option('--listen-port <port>', 'TCP port the apps connect to (0: any free port)', String(MDS_DEFAULT_PORT))
      .option('--listen-address <ip>', 'local address to listen on', '0.0.0.0')
      .action(
        bind('metadata-service', async (ctx, flags: { listenPort: string; listenAddress: string }) => {
          const port = parsePort(flags.listenPort);
          if (isIP(flags.listenAddress) === 0) {
            throw new RktError('USAGE', `invalid --listen-address "${flags.listenAddress}": expected an IP address`);
          }
          // Arm the handlers before listening so a signal during start-up still stops us cleanly.
          const stopped = waitForStopSignal();
          const svc = await startMetadataService({
            port,
            address: flags.listenAddress,
            socketPath: mdsSocketPath(ctx.globals.dir),
            log: (line) => ctx.output.warn(line),
          });
          ctx.output.warn(`listening on ${flags.listenAddress.includes(':') ? `[${flags.listenAddress}]` : flags.listenAddress}:${svc.port}, registration socket ${svc.socketPath}`);
          const sig = await stopped;
          ctx.output.debug(`${sig}: shutting down`);
          await svc.close();
          return 0;
        }),
      );
  },
};
