// `rkt rm`: removes exited or prepared pods (never a running one), printing each removed uuid.
import { RktError } from '../../../common/errors.js';
import { deletePod } from '../../pod/delete.js';
import { requirePod } from '../../pod/state.js';
import { movePod, releasePod, tryLockPod } from '../../pod/transitions.js';
import { forEachPodArgument } from '../../pod/uuid.js';
import type { CommandContext } from '../../context/context.js';
import type { CommandModule } from '../registry.js';

const REFUSED: Record<string, string> = {
  running: 'it is running (stop it first with "rkt stop")',
  preparing: 'it is being prepared',
  embryo: 'it is being created',
  deleting: 'it is being deleted',
  'exited deleting': 'it is being deleted',
};

async function removeOne(ctx: CommandContext, uuid: string): Promise<void> {
  const dataDir = ctx.globals.dir;
  const snap = await requirePod(dataDir, uuid);
  const why = REFUSED[snap.state];
  if (why) throw new RktError('POD_STATE', `cannot remove pod ${uuid}: ${why}`);
  const lock = await tryLockPod(dataDir, uuid, snap.stateDir);
  if (!lock) throw new RktError('POD_STATE', `cannot remove pod ${uuid}: it is in use (${snap.state === 'exited' ? 'running' : snap.state})`);
  try {
    if (lock.stateDir === 'run') await movePod(dataDir, lock, 'exited-garbage');
    else if (lock.stateDir === 'prepare' || lock.stateDir === 'prepared') await movePod(dataDir, lock, 'garbage');
    await deletePod(ctx, lock);
  } finally {
    await releasePod(lock);
  }
}

export const rmCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('rm')
      .description('remove all files and resources associated with an exited pod')
      .argument('[uuids...]', 'pod uuids or unique prefixes')
      .option('--uuid-file <file>', 'read pod UUID from file instead of argument')
      .action(
        bind('rm', async (ctx, args: string[], flags: { uuidFile?: string }) => {
          return forEachPodArgument(ctx, args, flags.uuidFile, async (uuid) => {
            await removeOne(ctx, uuid);
            ctx.output.out(`"${uuid}"`);
          });
        }),
      );
  },
};
