// `rkt cri`: the Kubernetes CRI (runtime.v1) endpoint, in the foreground until SIGINT or SIGTERM.
import { loadConfig, mirrorFor } from '../../config/config.js';
import type { GlobalOptions } from '../../context/global-options.js';
import type { CommandModule } from '../registry.js';
import { waitForStopSignal } from '../stop-signal.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The global flags every rkt the endpoint runs gets, so they all see the same store and configuration. */
function childGlobalArgs(g: GlobalOptions): string[] {
  const args = [`--dir=${g.dir}`, `--local-config=${g.localConfig}`, `--system-config=${g.systemConfig}`];
  if (g.userConfig !== undefined) args.push(`--user-config=${g.userConfig}`);
  if (g.trustKeysFromHttps) args.push('--trust-keys-from-https');
  return args;
}

interface CriFlags { listen: string; streamAddress: string; net: string; cniConfDir?: string; verifyPrefix: string[]; insecureRegistry: string[] }

export const criCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('cri')
      .description('serve the Kubernetes CRI (runtime.v1) on a unix socket; runtime handlers nspawn (default) and kvm')
      .option('--listen <address>', 'the gRPC socket, unix:///PATH', 'unix:///run/rkt/cri.sock')
      .option('--stream-address <host:port>', 'where exec, attach and port-forward URLs point (port 0: any free port)', '127.0.0.1:0')
      .option('--net <name>', 'the rkt network sandboxes join (hostNetwork pods use the host\'s)', 'default')
      .option('--cni-conf-dir <dir>', 'join the network of the first *.conf/*.conflist here instead, as kubelet expects (e.g. /etc/cni/net.d)')
      .option('--verify-prefix <prefix>', 'images under this registry/repository prefix must be signed by a trusted key (repeatable)', collect, [])
      .option('--insecure-registry <host[:port]>', 'reach this registry over plain HTTP or unverified TLS (repeatable)', collect, [])
      .action(
        bind('cri', async (ctx, flags: CriFlags) => {
          const { startCriServer } = await import('../../cri/server.js');
          const { cniConfDirNetwork, fixedNetwork, localConfigWithCni } = await import('../../cri/runtime/cni-config.js');
          const cni = flags.cniConfDir;
          const localConfig = cni !== undefined ? await localConfigWithCni(ctx.globals.dir, ctx.globals.localConfig, cni) : ctx.globals.localConfig;
          if (cni !== undefined) ctx.output.debug(`pod network: the first config in ${cni} (rkt runs with --local-config=${localConfig}, its net.d linked there)`);
          const stopped = waitForStopSignal();
          const server = await startCriServer({
            listen: flags.listen,
            streamAddress: flags.streamAddress,
            dataDir: ctx.globals.dir,
            rktGlobalArgs: childGlobalArgs({ ...ctx.globals, localConfig }),
            podNetwork: cni !== undefined ? cniConfDirNetwork(cni) : fixedNetwork(flags.net),
            images: {
              verifyPrefixes: flags.verifyPrefix,
              insecureRegistries: flags.insecureRegistry,
              mirrorOf: (host) => mirrorFor(loadConfig(ctx.globals), host)?.mirror,
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
