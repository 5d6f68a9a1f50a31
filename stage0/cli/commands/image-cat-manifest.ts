// `rkt image cat-manifest IMAGE`: print a stored image's manifest.
import type { Command } from 'commander';
import { openStore } from '../../store/index.js';
import type { ActionBinder } from '../registry.js';

export function registerImageCatManifest(image: Command, bind: ActionBinder): void {
  image
    .command('cat-manifest')
    .description("print an image's manifest")
    .argument('<IMAGE>', 'image ID, ID prefix or name')
    .option('--pretty-print', 'indent the JSON')
    .action(
      bind('image cat-manifest', async (ctx, ref: string, flags: { prettyPrint?: boolean }) => {
        const store = await openStore(ctx.globals.dir);
        const id = await store.resolveImageRef(ref);
        const { raw } = await store.readImageManifest(id); // parsed, so validated
        const value: unknown = JSON.parse(raw.toString('utf8'));
        ctx.output.out(flags.prettyPrint ? JSON.stringify(value, null, '\t') : JSON.stringify(value));
        return 0;
      }),
    );
}
