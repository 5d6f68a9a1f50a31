// `rkt stop`: asks each running pod's stage1 to stop it (gracefully, or now with --force) and waits for it to exit.
import { RktError } from '../../../common/errors.js';
import { buildStopArgs } from '../../../common/stage1-contract.js';
import { requirePod } from '../../pod/state.js';
import { waitUnlocked } from '../../pod/transitions.js';
import { forEachPodArgument } from '../../pod/uuid.js';
import { entrypointPath, readPodStage1 } from '../../stage1/pod-stage1.js';
import { spawnEntrypoint } from '../../stage1/invoke.js';
import type { CommandContext } from '../../context/context.js';
import type { CommandModule } from '../registry.js';

/** How long `rkt stop` waits for the pod to release its lock after the stage1 accepted the stop. */
const STOP_WAIT_MS = 30_000;

async function stopOne(ctx: CommandContext, uuid: string, force: boolean): Promise<'stopped' | 'already'> {
  const snap = await requirePod(ctx.globals.dir, uuid);
  if (snap.state !== 'running') {
    if (snap.state === 'preparing' || snap.state === 'prepared' || snap.state === 'embryo') {
      throw new RktError('POD_STATE', `cannot stop pod ${uuid}: it is ${snap.state}, not running`);
    }
    return 'already';
  }
  const s1 = await readPodStage1(snap.dir);
  const ep = entrypointPath(snap.dir, s1, 'stop');
  const code = await spawnEntrypoint(snap.dir, ep, buildStopArgs({ force, uuid }), ctx.output);
  if (code !== 0) throw new RktError('STAGE1', `cannot stop pod ${uuid}: stage1 stop exited with status ${code}`);
  if (!(await waitUnlocked(snap.dir, 100, Date.now() + STOP_WAIT_MS))) {
    ctx.output.warn(`pod ${uuid} is still running ${STOP_WAIT_MS / 1000}s after the stop request${force ? '' : '; try --force'}`);
  }
  return 'stopped';
}

export const stopCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('stop')
      .description('stop a pod')
      .argument('[uuids...]', 'pod uuids or unique prefixes')
      .option('--force', 'forced stopping')
      .option('--uuid-file <file>', 'read pod UUID from file instead of argument')
      .action(
        bind('stop', async (ctx, args: string[], flags: { force?: boolean; uuidFile?: string }) => {
          return forEachPodArgument(ctx, args, flags.uuidFile, async (uuid) => {
            const r = await stopOne(ctx, uuid, flags.force === true);
            ctx.output.out(r === 'already' ? `pod "${uuid}" is already stopped` : `"${uuid}"`);
          });
        }),
      );
  },
};
