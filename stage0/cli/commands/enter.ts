// `rkt enter`: run a command inside a running pod's app by becoming the stage1's enter entrypoint.
import { RktError } from '../../../common/errors.js';
import { buildEnterArgs } from '../../../common/stage1-contract.js';
import { readPodManifestFile, waitForPodPid } from '../../pod/info.js';
import { requirePod } from '../../pod/state.js';
import { parseDuration } from '../../pod/timefmt.js';
import { podArgument } from '../../pod/uuid.js';
import { execEnterEntrypoint } from '../../stage1/invoke.js';
import { entrypointPath, readPodStage1 } from '../../stage1/pod-stage1.js';
import type { CommandModule } from '../registry.js';

const DEFAULT_COMMAND = '/bin/sh';

/** The pod's systemd counts whole seconds; 0 means no limit, as in systemd. */
function enterTimeoutSeconds(text: string): number | undefined {
  const ms = parseDuration(text, '--timeout');
  return ms === 0 ? undefined : Math.max(1, Math.ceil(ms / 1000));
}

export const enterCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('enter')
      .description('enter the namespaces of an app within a rkt pod')
      .usage('[--app=APPNAME] UUID [CMD [ARGS ...]]')
      .argument('[uuid]', 'pod uuid or unique prefix')
      .argument('[cmd...]', 'command to run (default /bin/sh)')
      .option('--app <name>', 'name of the app to enter within the specified pod')
      .option('--uuid-file <file>', 'read pod UUID from file instead of argument')
      .option('--timeout <duration>', 'stop CMD after this long, e.g. 30s (rounded up to whole seconds; default: no limit)')
      .passThroughOptions(true)
      .action(
        bind('enter', async (ctx, uuidArg: string | undefined, cmdArgs: string[], flags: { app?: string; uuidFile?: string; timeout?: string }) => {
          const dataDir = ctx.globals.dir;
          const timeoutS = flags.timeout !== undefined ? enterTimeoutSeconds(flags.timeout) : undefined;
          // With --uuid-file the first positional is already the command.
          const command = flags.uuidFile !== undefined && uuidArg !== undefined ? [uuidArg, ...cmdArgs] : [...cmdArgs];
          const uuid = await podArgument(dataDir, flags.uuidFile !== undefined ? undefined : uuidArg, flags.uuidFile);
          const snap = await requirePod(dataDir, uuid);
          if (snap.state !== 'running') {
            throw new RktError('POD_STATE', `cannot enter pod ${uuid}: it is ${snap.state}, not running`, { hint: 'only a running pod can be entered' });
          }
          const manifest = await readPodManifestFile(snap.dir);
          const apps = manifest?.apps.map((a) => a.name) ?? [];
          let app = flags.app;
          if (app === undefined) {
            if (apps.length !== 1 || apps[0] === undefined) {
              ctx.output.warn('pod apps:');
              for (const a of apps) ctx.output.warn(`  ${a}`);
              throw new RktError('USAGE', `pod ${uuid} has ${apps.length} apps: say which to enter with --app=NAME`, { exitCode: 254 });
            }
            app = apps[0];
          } else if (!apps.includes(app)) {
            throw new RktError('USAGE', `pod ${uuid} has no app "${app}" (apps: ${apps.join(', ')})`, { exitCode: 254 });
          }
          if (command.length === 0) {
            ctx.output.warn(`no command specified, assuming "${DEFAULT_COMMAND}"`);
            command.push(DEFAULT_COMMAND);
          }
          const s1 = await readPodStage1(snap.dir);
          const ep = entrypointPath(snap.dir, s1, 'enter');
          const pid = await waitForPodPid(dataDir, uuid);
          return execEnterEntrypoint(snap.dir, ep, buildEnterArgs({ pid, appName: app, command, ...(timeoutS !== undefined ? { timeoutS } : {}) }), ctx.output);
        }),
      );
  },
};
