// `rkt image extract` (the image alone) and `rkt image render` (with its dependencies) into a directory.
import type { Command } from 'commander';
import { rm } from 'node:fs/promises';
import { openStore } from '../../store/index.js';
import type { ActionBinder } from '../registry.js';
import { prepareOutDir } from './image-shared.js';

interface Flags {
  rootfsOnly?: boolean;
  overwrite?: boolean;
}

function register(image: Command, bind: ActionBinder, name: 'extract' | 'render', withDeps: boolean, what: string): void {
  image
    .command(name)
    .description(what)
    .argument('<IMAGE>', 'image ID, ID prefix or name')
    .argument('<DIR>', 'destination directory (absent or empty)')
    .option('--rootfs-only', 'write only the root filesystem, not the manifest')
    .option('--overwrite', 'replace DIR if it exists')
    .action(
      bind(`image ${name}`, async (ctx, ref: string, dir: string, flags: Flags) => {
        const store = await openStore(ctx.globals.dir);
        const id = await store.resolveImageRef(ref);
        await prepareOutDir(dir, flags.overwrite === true);
        try {
          await store.extractImage(id, dir, { rootfsOnly: flags.rootfsOnly === true, withDeps });
        } catch (err) {
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
        return 0;
      }),
    );
}

export function registerImageExtract(image: Command, bind: ActionBinder): void {
  register(image, bind, 'extract', false, 'extract a stored image (without its dependencies) to a directory');
  register(image, bind, 'render', true, 'render a stored image with its dependencies to a directory');
}
