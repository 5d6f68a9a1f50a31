// `rkt run`: prepare a pod while holding its exclusive lock, move it to run/ and become its stage1.
import { parsePodArgs } from '../app-args.js';
import { abandon, preparePod } from '../../pod/prepare.js';
import { handOverToStage1 } from '../../pod/handover.js';
import { movePod } from '../../pod/transitions.js';
import { endProgress } from '../../context/output.js';
import type { CommandModule } from '../registry.js';
import { rawArgsCommand } from './pod-args-command.js';

export const runCommand: CommandModule = {
  register(parent, bind) {
    rawArgsCommand(parent, 'run', 'run', 'run image(s) in a pod in rkt', '[flags] IMAGE [app flags] [-- image-args ---] [IMAGE ...]').action(
      bind('run', async (ctx, raw: string[]) => {
        const p = parsePodArgs('run', raw);
        ctx.clock.mark('pod arguments');
        const pod = await preparePod(ctx, p);
        try {
          await movePod(ctx.globals.dir, pod.lock, 'run');
          ctx.clock.mark('pod moved to run/');
          endProgress();
          return await handOverToStage1(ctx, pod.lock, p);
        } catch (err) {
          await abandon(ctx, pod.lock);
          throw err;
        }
      }),
    );
  },
};
