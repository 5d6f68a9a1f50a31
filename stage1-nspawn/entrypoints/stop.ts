// The stop entrypoint: graceful = SIGTERM to systemd-nspawn, which asks the pod's systemd to power off
// (apps get their units' KillSignal=, SIGTERM unless an OCI image names a StopSignal; their statuses are
// recorded); --force = SIGKILL the pod's PID 1 (the whole PID namespace dies with it) and then nspawn if
// it lingers.
import { parseStopArgs } from '../../common/stage1-contract.js';
import { childrenOf, liveNspawn, signal, waitGone } from '../nspawn/procs.js';
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';

const FORCE_NSPAWN_GRACE_MS = 2000;

async function stop(argv: string[]): Promise<number> {
  const args = parseStopArgs(argv);
  const podDir = process.cwd();
  const nspawn = await liveNspawn(podDir);
  if (nspawn === undefined) return 0; // already exited
  if (!args.force) {
    signal(nspawn, 'SIGTERM');
    return 0;
  }
  for (const child of await childrenOf(nspawn)) signal(child, 'SIGKILL');
  if (!(await waitGone(nspawn, FORCE_NSPAWN_GRACE_MS))) signal(nspawn, 'SIGKILL');
  return 0;
}

runEntrypoint('stop', stop);
