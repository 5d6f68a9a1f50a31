// The nspawn flavor's answers to the run pipeline: users mapped by ID-mapped mounts (or nspawn's own
// modes), volumes bound at /rkt/volumes, a watchdog unit, the pod's cgroup or machined registration, and
// an exec of systemd-nspawn booting the pod's systemd.
import fs from 'node:fs/promises';
import { machineId, machineName, ppidPath } from '../../common/pod-layout.js';
import { debugLog } from '../../stage1-shared/entrypoint.js';
import type { PodNetworks } from '../../stage1-shared/networking/setup.js';
import type { ExecCommand, RunContext, Stage1RunFlavor } from '../../stage1-shared/run/flavor.js';
import { nspawnArgv, type NspawnBind } from '../nspawn/argv.js';
import { enterPodCgroup } from '../nspawn/cgroup.js';
import { cgroupLayout, findInPath, insideSystemdUnit, isOverlayfs, machinedReachable, type CgroupLayout } from '../nspawn/host.js';
import { writeIdentity } from '../nspawn/pod-etc.js';
import { finishIdmappedOverlays, idmapPodOverlays } from '../nspawn/userns-overlay.js';
import { prepareVolumes, VOLUMES_IN_POD } from '../nspawn/volumes.js';
import { shareVolumesDir } from '../../stage1-shared/app/host-volumes.js';
import { POD_DIR_IN_POD, watchdogUnit } from '../nspawn/watchdog.js';
import { nspawnTraits, type NspawnState, type UserNsOwnership } from './traits.js';

interface NspawnHost {
  diskShift: number;
  ownership?: UserNsOwnership;
  volumeBinds: NspawnBind[];
}

interface NspawnLaunch {
  state: NspawnState;
  volumeBinds: NspawnBind[];
  layout: CgroupLayout;
  netnsPath: string | undefined;
}

/**
 * How the pod's files get the user namespace's ownership: an ID-mapped mount of a plain tree (nspawn
 * "map"); overlays re-made over ID-mapped lower layers ("overlay-idmap", nspawn "off"); or, as a fallback,
 * nspawn chowning the tree ("chown", a full copy-up on overlayfs). Must run before the native addon loads.
 */
async function prepareUserNs(podDir: string, root: string, pu: { shift: number; count: number }): Promise<UserNsOwnership> {
  const forced = process.env['RKT_STAGE1_USERNS_OWNERSHIP'];
  if (forced === 'map' || forced === 'chown') return forced;
  if (!isOverlayfs(root)) return 'map';
  return (await idmapPodOverlays(podDir, pu.shift, pu.count)) ? 'overlay-idmap' : 'chown';
}

async function prepareHost(ctx: RunContext): Promise<NspawnHost> {
  const pu = ctx.args.privateUsers;
  const ownership = pu ? await prepareUserNs(ctx.podDir, ctx.root, pu) : undefined;
  return {
    // Only ID-mapped overlays leave the files unshifted on disk; nspawn's modes show them shifted already.
    diskShift: ownership === 'overlay-idmap' && pu ? pu.shift : 0,
    ...(ownership !== undefined ? { ownership } : {}),
    volumeBinds: await prepareVolumes(ctx.podDir, ctx.input.pod, pu),
  };
}

async function prepareLaunch(ctx: RunContext, host: NspawnHost, nets: PodNetworks): Promise<{ state: NspawnState; launch: NspawnLaunch; unsealedWhy?: string }> {
  const { args, podDir } = ctx;
  const mid = machineId(args.uuid);
  await writeIdentity(ctx.root, ctx.hostname, mid);
  const registered = machinedReachable();
  const layout = cgroupLayout();
  let cgroups: string[] = [];
  if (!registered) {
    try {
      cgroups = (await enterPodCgroup(layout, args.uuid)).dirs;
    } catch (err) {
      debugLog(args.debug, `cannot create the pod's cgroup, nspawn nests it in ours: ${String(err)}`);
    }
  }
  if (args.privateUsers && host.ownership === 'overlay-idmap') await finishIdmappedOverlays(podDir, args.privateUsers.shift, args.privateUsers.count);
  // Apps added later may bring host volumes (rkt app add --mnt-volume): their binds must reach the pod.
  if (args.mutable) await shareVolumesDir(ctx.root, VOLUMES_IN_POD);
  const state: NspawnState = {
    machine: machineName(args.uuid), machineId: mid, registered, cgroups, ...(host.ownership !== undefined ? { ownership: host.ownership } : {}),
  };
  const launch: NspawnLaunch = { state, volumeBinds: host.volumeBinds, layout, netnsPath: nets.netnsPath };
  // nspawn's own ownership modes (chown, map) work on the tree as one mount: they would fail on, or
  // hide, a read-only submount, so those fallbacks go unsealed.
  if (host.ownership === undefined || host.ownership === 'overlay-idmap') return { state, launch };
  return { state, launch, unsealedWhy: `--private-users-ownership=${host.ownership}` };
}

async function launch(ctx: RunContext, l: NspawnLaunch): Promise<ExecCommand> {
  const { args, podDir } = ctx;
  const nspawn = findInPath('systemd-nspawn');
  // nspawn joins --network-namespace-path from inside the pod's new user namespace, which the kernel
  // refuses (EPERM) for a netns owned by the host's: with --private-users, nsenter joins it first
  // (same PID, no fork) and nspawn simply keeps the netns it was started in.
  const joinNetnsFirst = args.privateUsers !== undefined && l.netnsPath !== undefined;
  const privateUsers = args.privateUsers && l.state.ownership ? { ...args.privateUsers, ownership: l.state.ownership } : undefined;
  const nsArgs = nspawnArgv({
    rootfs: ctx.root, machine: l.state.machine, machineId: l.state.machineId, register: l.state.registered, keepUnit: insideSystemdUnit(),
    netnsPath: joinNetnsFirst ? undefined : l.netnsPath,
    binds: [...l.volumeBinds, { source: podDir, target: POD_DIR_IN_POD, readOnly: true, recursive: false }],
    interactive: args.interactive, allCapabilities: args.disableCapabilities, debug: args.debug,
    ...(privateUsers ? { privateUsers } : {}),
  });
  const env: NodeJS.ProcessEnv = { ...process.env, SYSTEMD_NSPAWN_CONTAINER_SERVICE: 'rkt' };
  // On a hybrid host the pod gets a pure cgroup2 tree: nspawn's v1 emulation there is noisy and partial.
  if (l.layout === 'hybrid') env['SYSTEMD_NSPAWN_UNIFIED_HIERARCHY'] = '1';
  const file = joinNetnsFirst ? findInPath('nsenter') : nspawn;
  const argv = joinNetnsFirst ? [file, `--net=${l.netnsPath ?? ''}`, '--', nspawn, ...nsArgs] : [nspawn, ...nsArgs];
  // exec keeps our PID: the ppid file names the process whose single child is the pod's systemd.
  await fs.writeFile(ppidPath(podDir), `${process.pid}\n`);
  return { file, argv, env };
}

export const nspawnRunFlavor: Stage1RunFlavor<NspawnState, NspawnHost, NspawnLaunch> = {
  ...nspawnTraits,
  networkPlan: (args, pod) => (args.net.length === 1 && args.net[0] === 'host' && pod.ports.length === 0 ? 'host' : 'cni'),
  prepareHost,
  extraUnits: () => watchdogUnit(),
  prepareLaunch: (ctx, host, nets) => prepareLaunch(ctx, host, nets),
  launch,
};
