// `rkt image import FILE...` (hidden): store an ACI file as is, without signature checks; prints its ID.
// For tests and tooling; users fetch images with `rkt fetch`, which verifies them first.
import type { Command } from 'commander';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../store/index.js';
import type { ActionBinder } from '../registry.js';

export function registerImageImport(image: Command, bind: ActionBinder): void {
  image
    .command('import', { hidden: true })
    .description('import ACI files into the store without verification')
    .argument('<FILE...>', 'ACI files')
    .action(
      bind('image import', async (ctx, files: string[]) => {
        const store = await openStore(ctx.globals.dir);
        for (const f of files) {
          const id = await store.importAci(f, { origin: pathToFileURL(path.resolve(f)).href });
          ctx.output.out(id);
        }
        return 0;
      }),
    );
}
