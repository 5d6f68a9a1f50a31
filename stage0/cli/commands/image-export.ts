// `rkt image export IMAGE OUT.aci`: write the stored (uncompressed) ACI, byte for byte, so it keeps its ID.
import type { Command } from 'commander';
import { copyFile, rename, rm } from 'node:fs/promises';
import { openStore } from '../../store/index.js';
import type { ActionBinder } from '../registry.js';
import { refuseExistingFile } from './image-shared.js';
import { exportOciArchive } from '../../store/oci-verify.js';

export function registerImageExport(image: Command, bind: ActionBinder): void {
  image
    .command('export')
    .description('export a stored image to an ACI file (OCI images: to an oci-archive)')
    .argument('<IMAGE>', 'image ID, ID prefix or name')
    .argument('<OUT>', 'ACI file to write')
    .option('--overwrite', 'replace OUT if it exists')
    .action(
      bind('image export', async (ctx, ref: string, out: string, flags: { overwrite?: boolean }) => {
        const store = await openStore(ctx.globals.dir);
        const id = await store.resolveImageRef(ref);
        await refuseExistingFile(out, flags.overwrite === true);
        const tmp = `${out}.tmp-${process.pid}`;
        try {
          const info = await store.getImageInfo(id);
          if (info.oci) await exportOciArchive(store.layout, info, tmp);
          else await copyFile(store.blobPath(id), tmp);
          await rename(tmp, out);
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
        return 0;
      }),
    );
}
