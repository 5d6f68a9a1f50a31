// `rkt image ...`: the image command group; each subcommand lives in its own image-<name>.ts module.
import type { CommandModule } from '../registry.js';
import { registerImageBuild } from './image-build.js';
import { registerImageImport } from './image-import.js';
import { registerImageList } from './image-list.js';
import { registerImageRm } from './image-rm.js';
import { registerImageExport } from './image-export.js';
import { registerImageExtract } from './image-extract.js';
import { registerImageCatManifest } from './image-cat-manifest.js';
import { registerImageGc } from './image-gc.js';
import { registerImageVerify } from './image-verify.js';

export const imageCommand: CommandModule = {
  register(parent, bind) {
    const image = parent.command('image').description('operate on images in the local store');
    for (const reg of [
      registerImageBuild,
      registerImageImport,
      registerImageList,
      registerImageRm,
      registerImageExport,
      registerImageExtract,
      registerImageCatManifest,
      registerImageGc,
      registerImageVerify,
    ]) {
      reg(image, bind);
    }
  },
};
