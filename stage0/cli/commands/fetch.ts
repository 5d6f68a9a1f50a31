// `rkt fetch IMAGE...`: fetch (and verify) images into the store, printing each image ID.
import { RktError } from '../../../common/errors.js';
import { fetchImage, type PullPolicy } from '../../fetch/index.js';
import { openStore } from '../../store/index.js';
import type { CommandContext } from '../../context/context.js';
import type { CommandModule } from '../registry.js';

interface FetchFlags {
  signature?: string[];
  pullPolicy: string;
  full?: boolean;
}

/** sha512- plus 32 hex digits, the short form rkt fetch printed. */
export function shortImageId(id: string): string {
  return id.slice(0, 'sha512-'.length + 32);
}

function parsePullPolicy(v: string): PullPolicy {
  if (v === 'new' || v === 'update' || v === 'never') return v;
  throw new RktError('USAGE', `invalid --pull-policy "${v}"`, { hint: 'expected new, update or never' });
}

async function runFetch(ctx: CommandContext, images: string[], flags: FetchFlags): Promise<number> {
  const pullPolicy = parsePullPolicy(flags.pullPolicy);
  const signatures = flags.signature ?? [];
  if (signatures.length > images.length) {
    throw new RktError('USAGE', 'more --signature flags than images', { hint: 'give one --signature per image, in the same order' });
  }
  const store = await openStore(ctx.globals.dir);
  for (const [i, image] of images.entries()) {
    const signature = signatures[i];
    const id = await fetchImage(ctx, store, image, { pullPolicy, ...(signature ? { signature } : {}) });
    // Render now, as rkt did, so the first `run` of a fetched image does not pay for it. An OCI image's
    // unpacked layers are its render: pods mount them directly (a flat copy is made only when needed).
    if ((await store.getImageInfo(id)).oci) {
      ctx.output.debug(`${id}: OCI layers unpacked; nothing to render`);
    } else {
      ctx.output.debug(`rendering ${id}`);
      await store.renderTree(id);
    }
    ctx.output.out(flags.full ? id : shortImageId(id));
  }
  return 0;
}

export const fetchCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('fetch')
      .description('fetch image(s) and store them in the local store')
      .argument('<IMAGE...>', 'image path, URL, sha512- ID, or appc name[:version]')
      .option('--signature <file>', 'local signature file to use for the image (repeat per image)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
      .option('--pull-policy <policy>', 'when to fetch: new (store first), update (check remote), never (store only)', 'update')
      .option('--full', 'print the full image ID')
      .action(bind('fetch', async (ctx, images: string[], flags: FetchFlags) => runFetch(ctx, images, flags)));
  },
};
