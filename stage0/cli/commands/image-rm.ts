// `rkt image rm IMAGE...`: remove images (by ID, ID prefix or name) from the store; prints removed IDs.
import type { Command } from 'commander';
import { RktError, formatErrorLine } from '../../../common/errors.js';
import { openStore } from '../../store/index.js';
import { withPrepareLock } from '../../store/prepare-lock.js';
import type { ActionBinder } from '../registry.js';

export function registerImageRm(image: Command, bind: ActionBinder): void {
  image
    .command('rm')
    .description('remove one or more images from the local store')
    .argument('<IMAGE...>', 'image IDs, ID prefixes or names')
    .action(
      bind('image rm', async (ctx, refs: string[]) => {
        const store = await openStore(ctx.globals.dir);
        // Exclusive, as image gc: a prepare that has picked one of these images finishes recording its
        // pod first (its trees and layers then stay for it), and none starts picking meanwhile.
        const failed = await withPrepareLock(store.layout, 'exclusive', (line) => ctx.output.debug(line), async () => {
          let n = 0;
          const done = new Set<string>();
          for (const ref of refs) {
            try {
              const id = await store.resolveImageRef(ref);
              if (done.has(id)) continue;
              await store.removeImage(id);
              done.add(id);
              ctx.output.out(id);
            } catch (err) {
              if (!(err instanceof RktError)) throw err;
              ctx.output.warn(formatErrorLine(err));
              n++;
            }
          }
          return n;
        });
        if (failed > 0) {
          throw new RktError('IMAGE_NOT_FOUND', `${failed} of ${refs.length} image(s) could not be removed`);
        }
        return 0;
      }),
    );
}
