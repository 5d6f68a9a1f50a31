// `rkt image verify IMAGE...`: re-hash stored images and check their rendered trees.
import type { Command } from 'commander';
import { RktError } from '../../../common/errors.js';
import { openStore } from '../../store/index.js';
import { verifyImage } from '../../store/verify.js';
import type { ActionBinder } from '../registry.js';
import { resolveRefs } from './image-shared.js';

export function registerImageVerify(image: Command, bind: ActionBinder): void {
  image
    .command('verify')
    .description('verify stored images against their IDs')
    .argument('<IMAGE...>', 'image IDs, ID prefixes or names')
    .action(
      bind('image verify', async (ctx, refs: string[]) => {
        const store = await openStore(ctx.globals.dir);
        let bad = 0;
        for (const id of await resolveRefs(store, refs)) {
          const r = await verifyImage(store, id);
          if (r.problems.length === 0) {
            ctx.output.out(`${id}: ok${r.trees.length ? ` (${r.trees.length} rendered tree${r.trees.length > 1 ? 's' : ''})` : ''}`);
          } else {
            bad++;
            for (const p of r.problems) ctx.output.out(`${id}: ${p}`);
          }
        }
        if (bad > 0) throw new RktError('IMAGE_INVALID', `${bad} image(s) failed verification`, { hint: 'remove them with "rkt image rm" and fetch them again' });
        return 0;
      }),
    );
}
