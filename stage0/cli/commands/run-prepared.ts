// `rkt run-prepared`: lock a prepared pod, move it to run/ and become its stage1.
import fs from 'node:fs/promises';
import { parsePodManifest } from '../../../common/appc/index.js';
import { RktError } from '../../../common/errors.js';
import { parseNetList } from '../../../common/networking/net-list.js';
import { checkPortsAllowed } from '../../../common/networking/port-forward.js';
import { podManifestPath } from '../../../common/pod-layout.js';
import { parsePodArgs } from '../app-args.js';
import { handOverToStage1 } from '../../pod/handover.js';
import { requirePod } from '../../pod/state.js';
import { movePod, podLockDir, releasePod, tryLockPod } from '../../pod/transitions.js';
import { resolvePodUuid } from '../../pod/uuid.js';
import type { CommandModule } from '../registry.js';
import { rawArgsCommand } from './pod-args-command.js';

export const runPreparedCommand: CommandModule = {
  register(parent, bind) {
    rawArgsCommand(parent, 'run-prepared', 'run-prepared', 'run a prepared application pod in rkt', '[flags] UUID').action(
      bind('run-prepared', async (ctx, raw: string[]) => {
        const p = parsePodArgs('run-prepared', raw);
        const uuid = await resolvePodUuid(ctx.globals.dir, p.uuid ?? '');
        const snap = await requirePod(ctx.globals.dir, uuid);
        if (snap.state !== 'prepared') {
          throw new RktError('POD_STATE', `cannot run pod ${uuid}: it is ${snap.state}, only a prepared pod can be run`, {
            hint: snap.state === 'running' || snap.state === 'exited' ? 'a pod runs once; prepare a new one' : 'see "rkt status"',
          });
        }
        const lock = await tryLockPod(ctx.globals.dir, uuid, 'prepared');
        if (!lock) throw new RktError('POD_STATE', `cannot run pod ${uuid}: another rkt process is starting it`);
        try {
          // --port was fixed at prepare time, --net only now: refuse the pair before the pod is used up.
          const pod = parsePodManifest(await fs.readFile(podManifestPath(podLockDir(ctx.globals.dir, lock)), 'utf8'));
          checkPortsAllowed(parseNetList(p.net), pod.ports);
          await movePod(ctx.globals.dir, lock, 'run');
          return await handOverToStage1(ctx, lock, p);
        } catch (err) {
          // Still ours and never started: put it back so it can be run again once the cause is fixed.
          if (lock.stateDir === 'run') await movePod(ctx.globals.dir, lock, 'prepared').catch(() => undefined);
          await releasePod(lock);
          throw err;
        }
      }),
    );
  },
};
