// `rkt attach`: follow a running app's output and, for an app started with --stdin=stream, feed it stdin.
import { RktError } from '../../../common/errors.js';
import { attachableStreams, attachToApp, parseAttachMode, streamsFor } from '../../app/attach.js';
import { readPodManifestFile } from '../../pod/info.js';
import { requirePod } from '../../pod/state.js';
import { podArgument } from '../../pod/uuid.js';
import type { CommandModule } from '../registry.js';

export const attachCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('attach')
      .description("attach to a running app's output, and to its stdin when it was started with --stdin=stream")
      .usage('[--app=APPNAME] [--mode=MODE] UUID')
      .argument('[uuid]', 'pod uuid or unique prefix')
      .option('--app <name>', 'name of the app to attach to (needed when the pod has several)')
      .option('--mode <mode>', 'auto (every stream the app offers), list (print them), or a list of stdin,stdout,stderr', 'auto')
      .option('--uuid-file <file>', 'read pod UUID from file instead of argument')
      .action(
        bind('attach', async (ctx, uuidArg: string | undefined, flags: { app?: string; mode: string; uuidFile?: string }) => {
          const dataDir = ctx.globals.dir;
          const mode = parseAttachMode(flags.mode);
          const uuid = await podArgument(dataDir, uuidArg, flags.uuidFile);
          const snap = await requirePod(dataDir, uuid);
          if (snap.state !== 'running') {
            throw new RktError('POD_STATE', `cannot attach to pod ${uuid}: it is ${snap.state}, not running`, { hint: 'only a running pod can be attached to' });
          }
          const manifest = await readPodManifestFile(snap.dir);
          const apps = manifest?.apps.map((a) => a.name) ?? [];
          let app = flags.app;
          if (app === undefined) {
            if (apps.length !== 1 || apps[0] === undefined) {
              throw new RktError('USAGE', `pod ${uuid} has ${apps.length} apps (${apps.join(', ') || 'none'}): say which with --app=NAME`, { exitCode: 254 });
            }
            app = apps[0];
          } else if (!apps.includes(app)) {
            throw new RktError('USAGE', `pod ${uuid} has no app "${app}" (apps: ${apps.join(', ') || 'none'})`, { exitCode: 254 });
          }
          if (manifest === undefined) throw new RktError('POD_INVALID', `pod ${uuid} has no pod manifest`);
          const offered = attachableStreams(manifest, app);
          if (mode.kind === 'list') {
            for (const s of offered) ctx.output.out(s);
            return 0;
          }
          return attachToApp({ dataDir, snap, manifest, app, streams: streamsFor(mode, offered, app), out: ctx.output });
        }),
      );
  },
};
