// The nspawn flavor's answers to the app entrypoints: commands run in the pod by joining its namespaces
// (as enter does) under the pod's systemd; an added tree is shifted wherever nspawn's ownership mode shows
// the pod the disk's ids moved into its range (chown, overlay-idmap), not where it ID-maps the whole
// tree itself (map).
import { RktError } from '../../common/errors.js';
import type { AppFlavor } from '../../stage1-shared/app/flavor.js';
import type { IdRange } from '../../stage1-shared/app/ownership.js';
import { describeArgv } from '../../stage1-shared/app/pod-commands.js';
import type { Stage1Record } from '../../stage1-shared/record/stage1-record.js';
import { capture } from '../../stage1-shared/subprocess.js';
import { nspawnTraits, type NspawnState, type UserNsOwnership } from '../flavor/traits.js';
import { findInPath } from '../nspawn/host.js';
import { childrenOf, liveNspawn } from '../nspawn/procs.js';

/** Whether a tree written on the host must be shifted for the pod to see its owners (pure, tested). */
export function nspawnNeedsShift(ownership: UserNsOwnership | undefined): boolean {
  return ownership === 'chown' || ownership === 'overlay-idmap';
}

/** The pod's systemd: the single child of our systemd-nspawn. */
async function podSystemd(podDir: string): Promise<number> {
  const nspawn = await liveNspawn(podDir);
  const kids = nspawn === undefined ? [] : await childrenOf(nspawn);
  if (kids.length !== 1 || kids[0] === undefined) {
    throw new RktError('POD_STATE', `the pod is not running (no systemd-nspawn with its systemd for ${podDir})`, { hint: 'see its state with: rkt status <uuid>' });
  }
  return kids[0];
}

async function execInPod(podDir: string, rec: Stage1Record<NspawnState>, argv: readonly string[], opts: { timeoutMs: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  const pid = await podSystemd(podDir);
  const nsArgs = ['--target', String(pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup', '--root', '--wd=/'];
  if (rec.runtime.privateUsers) nsArgs.push('--user');
  const r = await capture(findInPath('nsenter'), [...nsArgs, ...argv], { timeoutMs: opts.timeoutMs, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  if (r.spawnError) throw new RktError('STAGE1', `cannot run nsenter: ${r.spawnError.message}`, { cause: r.spawnError });
  if (r.timedOut) throw new RktError('STAGE1', `${describeArgv(argv)} in the pod did not finish within ${Math.round(opts.timeoutMs / 1000)} s`);
  return { code: r.signal ? 128 : r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

export const nspawnAppFlavor: AppFlavor<NspawnState> = {
  traits: nspawnTraits,
  execInPod,
  diskShift(rec): IdRange | undefined {
    const pu = rec.runtime.privateUsers;
    return pu && nspawnNeedsShift(rec.flavorState.ownership) ? { shift: pu.shift, count: pu.count } : undefined;
  },
};
