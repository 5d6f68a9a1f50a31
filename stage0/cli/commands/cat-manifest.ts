// `rkt cat-manifest`: the pod manifest, pretty-printed by default.
import { RktError } from '../../../common/errors.js';
import { serializePodManifest } from '../../../common/appc/index.js';
import { readPodManifestFile } from '../../pod/info.js';
import { requirePod } from '../../pod/state.js';
import { podArgument } from '../../pod/uuid.js';
import type { CommandModule } from '../registry.js';

export const catManifestCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('cat-manifest')
      .description('inspect and print the pod manifest')
      .argument('[uuid]', 'pod uuid or unique prefix')
      .option('--pretty-print [bool]', 'apply indent to format the output (default true)')
      .option('--uuid-file <file>', 'read pod UUID from file instead of argument')
      .action(
        bind('cat-manifest', async (ctx, uuidArg: string | undefined, flags: { prettyPrint?: string | boolean; uuidFile?: string }) => {
          // `--pretty-print UUID`: commander takes UUID as the optional value; give it back.
          if (typeof flags.prettyPrint === 'string' && uuidArg === undefined && !['true', 'false'].includes(flags.prettyPrint)) {
            uuidArg = flags.prettyPrint;
            flags.prettyPrint = true;
          }
          const uuid = await podArgument(ctx.globals.dir, uuidArg, flags.uuidFile);
          const pod = await requirePod(ctx.globals.dir, uuid);
          const manifest = await readPodManifestFile(pod.dir);
          if (!manifest) throw new RktError('POD_INVALID', `pod ${uuid} has no manifest (state ${pod.state})`);
          const pretty = flags.prettyPrint === undefined || flags.prettyPrint === true || flags.prettyPrint === 'true';
          if (flags.prettyPrint !== undefined && typeof flags.prettyPrint === 'string' && !['true', 'false'].includes(flags.prettyPrint)) {
            throw new RktError('USAGE', `invalid --pretty-print "${flags.prettyPrint}": expected true or false`);
          }
          const canonical = serializePodManifest(manifest);
          ctx.output.out(pretty ? JSON.stringify(JSON.parse(canonical) as unknown, null, '\t') : canonical);
          return 0;
        }),
      );
  },
};
