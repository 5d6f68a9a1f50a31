// `rkt image build DIR OUT.aci`: a reproducible ACI from a directory holding manifest + rootfs/.
import type { Command } from 'commander';
import { RktError } from '../../../common/errors.js';
import { buildAci } from '../../image/build.js';
import type { ActionBinder } from '../registry.js';

interface Flags {
  compression: string;
  overwrite?: boolean;
}

export function registerImageBuild(image: Command, bind: ActionBinder): void {
  image
    .command('build')
    .description('build a reproducible ACI from a directory with "manifest" and "rootfs/"')
    .argument('<DIR>', 'directory holding manifest and rootfs/')
    .argument('<OUT>', 'ACI file to write')
    .option('--compression <kind>', 'none or gzip', 'none')
    .option('--overwrite', 'replace OUT if it exists')
    .action(
      bind('image build', async (ctx, dir: string, out: string, flags: Flags) => {
        const c = flags.compression;
        if (c !== 'none' && c !== 'gzip') {
          throw new RktError('USAGE', `invalid --compression "${c}"`, { hint: 'expected none or gzip' });
        }
        await buildAci(dir, out, {
          compression: c,
          overwrite: flags.overwrite === true,
          onSkip: (p, why) => ctx.output.warn(`skipping ${p}: ${why}s are not allowed in images`),
        });
        return 0;
      }),
    );
}
