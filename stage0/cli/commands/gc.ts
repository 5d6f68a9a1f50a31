// `rkt gc`: mark exited and failed pods as garbage, then delete garbage older than the grace period.
import { gcPods } from '../../pod/gc.js';
import { ensurePodDirs } from '../../pod/transitions.js';
import { parseDuration } from '../../pod/timefmt.js';
import type { CommandModule } from '../registry.js';

export const gcCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('gc')
      .description('garbage collect rkt pods no longer in use')
      .option('--grace-period <duration>', 'duration to wait before discarding inactive pods from garbage', '30m')
      .option('--expire-prepared <duration>', 'duration to wait before expiring prepared pods', '24h')
      .option('--mark-only', 'if set to true, only the "mark" phase of the garbage collection process will be formed')
      .action(
        bind('gc', async (ctx, flags: { gracePeriod: string; expirePrepared: string; markOnly?: boolean }) => {
          const gracePeriodMs = parseDuration(flags.gracePeriod, '--grace-period');
          const expirePreparedMs = parseDuration(flags.expirePrepared, '--expire-prepared');
          await ensurePodDirs(ctx.globals.dir);
          const failures = await gcPods(ctx, { gracePeriodMs, expirePreparedMs, markOnly: flags.markOnly === true });
          return failures > 0 ? 254 : 0;
        }),
      );
  },
};
