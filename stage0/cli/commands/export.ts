// `rkt export [--app=NAME] [--overwrite] UUID OUTPUT.aci`: an exited pod's app, as it left it, as an ACI.
import { exportPodApp } from '../../pod/export.js';
import { resolvePodUuid } from '../../pod/uuid.js';
import type { CommandModule } from '../registry.js';

interface Flags {
  app?: string;
  overwrite?: boolean;
}

export const exportCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('export')
      .description('export an app from an exited pod to an ACI file')
      .argument('<UUID>', 'uuid (or unique prefix) of an exited pod')
      .argument('<OUTPUT>', 'ACI file to write (NAME.aci)')
      .option('--app <name>', 'name of the app to export within the specified pod')
      .option('--overwrite', 'overwrite output ACI')
      .action(
        bind('export', async (ctx, uuidArg: string, out: string, flags: Flags) => {
          const uuid = await resolvePodUuid(ctx.globals.dir, uuidArg);
          await exportPodApp(ctx, { uuid, out, overwrite: flags.overwrite === true, ...(flags.app !== undefined ? { app: flags.app } : {}) });
          return 0;
        }),
      );
  },
};
