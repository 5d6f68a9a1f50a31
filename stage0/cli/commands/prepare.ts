// `rkt prepare`: fetch, render and lay out a pod without running it; prints its UUID.
import { parsePodArgs } from '../app-args.js';
import { preparePod } from '../../pod/prepare.js';
import { movePod, releasePod } from '../../pod/transitions.js';
import { endProgress } from '../../context/output.js';
import type { CommandModule } from '../registry.js';
import { rawArgsCommand } from './pod-args-command.js';

export const prepareCommand: CommandModule = {
  register(parent, bind) {
    rawArgsCommand(parent, 'prepare', 'prepare', 'prepare to run image(s) in a pod in rkt', '[flags] IMAGE [app flags] [-- image-args ---] [IMAGE ...]').action(
      bind('prepare', async (ctx, raw: string[]) => {
        const p = parsePodArgs('prepare', raw);
        const pod = await preparePod(ctx, p);
        try {
          await movePod(ctx.globals.dir, pod.lock, 'prepared');
        } finally {
          await releasePod(pod.lock);
        }
        endProgress();
        if (!p.quiet) ctx.output.warn(`pod ${pod.uuid} prepared`);
        ctx.output.out(pod.uuid);
        return 0;
      }),
    );
  },
};
