// The run entrypoint: turns the pod directory into a bootable tree (units, env, identity, DNS, volumes)
// and replaces itself with systemd-nspawn booting the pod's systemd. No Node process outlives this.
import fs from 'node:fs/promises';
import { parseImageManifest, parsePodManifest, type ImageManifest, type PodManifest } from '../../common/appc/index.js';
import type { PodNetworks } from '../../stage1-shared/networking/index.js';
import { sealStage1Dir } from '../../stage1-shared/seal-stage1.js';
import { RktError } from '../../common/errors.js';
import { execve, setCloexec } from '../../common/native.js';
import {
  appImageManifestPath, appRootfsPath, machineId, machineName, podManifestPath, ppidPath, stage1RootfsPath,
} from '../../common/pod-layout.js';
import { LOCK_FD_ENV, parseRunArgs, type RunArgs } from '../../common/stage1-contract.js';
import { DEFAULT_PATH, appSandboxProperties, buildAppUnitSpec, ensureStage1Accounts, podUnitFiles, writePodFiles, type AppUnitSpec } from '../../stage1-shared/units/index.js';
import { metadataHostAddress, metadataUrl } from '../../stage1-shared/units/index.js';
import { nspawnArgv } from '../nspawn/argv.js';
import { enterPodCgroup } from '../nspawn/cgroup.js';
import { writeFlavorInfo, type NspawnFlavorInfo, type UserNsOwnership } from '../nspawn/flavor-info.js';
import { cgroupLayout, findInPath, insideSystemdUnit, isOverlayfs, machinedReachable } from '../nspawn/host.js';
import { writeIdentity } from '../nspawn/pod-etc.js';
import { appEtcBinds, writePodEtc } from '../../stage1-shared/networking/pod-etc.js';
import { finishIdmappedOverlays, idmapPodOverlays } from '../nspawn/userns-overlay.js';
import { prepareVolumes, volumeInPod } from '../nspawn/volumes.js';
import { POD_DIR_IN_POD, watchdogUnit } from '../nspawn/watchdog.js';
import { debugLog, runEntrypoint } from './main.js';

function lockFd(): number {
  const raw = process.env[LOCK_FD_ENV];
  if (raw === undefined || !/^[0-9]+$/.test(raw)) {
    throw new RktError('STAGE1', `${LOCK_FD_ENV} is not set to an fd number`, { hint: 'start pods with rkt run' });
  }
  return Number(raw);
}

/**
 * CNI setup (plugins are child processes: the lock fd must not leak into them). The networking code is
 * loaded only for pods that need it: host-network pods start without its dependencies.
 */
async function setupNetworks(podDir: string, pod: PodManifest, args: RunArgs, images: ImageManifest[], fd: number): Promise<PodNetworks> {
  if (args.net.length === 1 && args.net[0] === 'host' && pod.ports.length === 0) {
    return { netnsPath: undefined, netInfo: [], cniDns: { nameservers: [], search: [], options: [] } };
  }
  const { resolvePortForwards, setupPodNetworks } = await import('../../stage1-shared/networking/index.js');
  const appPorts = pod.apps.flatMap((a, i) => (a.app ?? images[i]?.app)?.ports ?? []);
  setCloexec(fd, true);
  try {
    return await setupPodNetworks({
      podDir, uuid: args.uuid, net: args.net, ports: resolvePortForwards(pod.ports, appPorts),
      ...(args.localConfig !== undefined ? { localConfigDir: args.localConfig } : {}),
    });
  } finally {
    setCloexec(fd, false);
  }
}

/** Undoes setupNetworks after a later failure; a teardown error must not hide the original one. */
async function rollbackNetworks(podDir: string, fd: number, debug: boolean): Promise<void> {
  const { teardownPodNetworks } = await import('../../stage1-shared/networking/index.js');
  setCloexec(fd, true);
  try {
    await teardownPodNetworks(podDir);
  } catch (err) {
    debugLog(debug, `network teardown after a failed start: ${String(err)}`);
  } finally {
    setCloexec(fd, false);
  }
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

async function readImages(podDir: string, pod: PodManifest): Promise<ImageManifest[]> {
  return Promise.all(pod.apps.map(async (app) => parseImageManifest(await fs.readFile(appImageManifestPath(podDir, app.name), 'utf8'))));
}

async function appSpecs(
  podDir: string, pod: PodManifest, images: ImageManifest[], args: RunArgs, etc: Awaited<ReturnType<typeof writePodEtc>>,
  diskShift: number, mdsUrl?: string,
): Promise<AppUnitSpec[]> {
  const specs: AppUnitSpec[] = [];
  for (const [i, app] of pod.apps.entries()) {
    const image = images[i] as ImageManifest;
    const appRootfs = appRootfsPath(podDir, app.name);
    const etcBinds = await appEtcBinds(etc, appRootfs);
    specs.push(await buildAppUnitSpec({
      pod, app, image, appRootfs, diskShift, etcBinds, volumePath: volumeInPod,
      disableCapabilities: args.disableCapabilities, disablePaths: args.disablePaths, disableSeccomp: args.disableSeccomp,
      interactive: args.interactive, ...(mdsUrl !== undefined ? { metadataUrl: mdsUrl } : {}),
    }));
  }
  return specs;
}

async function run(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  const podDir = process.cwd();
  const root = stage1RootfsPath(podDir);
  const fd = lockFd();
  const pod = parsePodManifest(await fs.readFile(podManifestPath(podDir), 'utf8'));
  const machine = machineName(args.uuid);
  const mid = machineId(args.uuid);
  const hostname = args.hostname ?? machine;
  const ownership = args.privateUsers ? await prepareUserNs(podDir, root, args.privateUsers) : undefined;
  const diskShift = ownership === 'overlay-idmap' && args.privateUsers ? args.privateUsers.shift : 0;
  const images = await readImages(podDir, pod);
  const volumeBinds = await prepareVolumes(podDir, pod, args.privateUsers);
  const nets = await setupNetworks(podDir, pod, args, images, fd);
  try {
    const etc = await writePodEtc(podDir, { mode: args.dnsConfMode, hostNetwork: nets.netnsPath === undefined, hostname, cniDns: nets.cniDns });
    const mdsUrl = args.mdsToken === undefined ? undefined
      : await metadataUrl(podDir, args.mdsToken, metadataHostAddress(nets.netnsPath === undefined, nets.netInfo));
    const specs = await appSpecs(podDir, pod, images, args, etc, diskShift, mdsUrl);
    await ensureStage1Accounts(root, specs.map((s) => s.identity.uid), specs.flatMap((s) => [s.identity.gid, ...s.identity.supplementaryGids]));
    await writeIdentity(root, hostname, mid);
    await writePodFiles(root, [...podUnitFiles(specs), ...watchdogUnit()]);

    const register = machinedReachable();
    const layout = cgroupLayout();
    const info: NspawnFlavorInfo = { flavor: 'nspawn', machine, machineId: mid, registered: register, cgroups: [], apps: {} };
    for (const s of specs) {
      info.apps[s.name] = {
        properties: appSandboxProperties(s).map(([k, v]) => [k, v]),
        workingDirectory: s.workingDirectory,
        path: s.env.find((e) => e.name === 'PATH')?.value ?? DEFAULT_PATH,
      };
    }
    if (!register) {
      try {
        info.cgroups = (await enterPodCgroup(layout, args.uuid)).dirs;
      } catch (err) {
        debugLog(args.debug, `cannot create the pod's cgroup, nspawn nests it in ours: ${String(err)}`);
      }
    }
    if (args.privateUsers && ownership) info.privateUsers = { ...args.privateUsers, ownership };
    await writeFlavorInfo(podDir, info);
    if (args.privateUsers && ownership === 'overlay-idmap') await finishIdmappedOverlays(podDir, args.privateUsers.shift, args.privateUsers.count);
    // nspawn's own ownership modes (chown, map) work on the tree as one mount: they would fail on, or
    // hide, a read-only submount, so those fallbacks go unsealed.
    if (ownership === undefined || ownership === 'overlay-idmap') await sealStage1Dir(root);
    else debugLog(args.debug, `--private-users-ownership=${ownership}: ${root}/stage1 is not sealed read-only`);

    const nspawn = findInPath('systemd-nspawn');
    // nspawn joins --network-namespace-path from inside the pod's new user namespace, which the kernel
    // refuses (EPERM) for a netns owned by the host's: with --private-users, nsenter joins it first
    // (same PID, no fork) and nspawn simply keeps the netns it was started in.
    const joinNetnsFirst = args.privateUsers !== undefined && nets.netnsPath !== undefined;
    const nsArgs = nspawnArgv({
      rootfs: root, machine, machineId: mid, register, keepUnit: insideSystemdUnit(), netnsPath: joinNetnsFirst ? undefined : nets.netnsPath,
      binds: [...volumeBinds, { source: podDir, target: POD_DIR_IN_POD, readOnly: true, recursive: false }], interactive: args.interactive, allCapabilities: args.disableCapabilities, debug: args.debug,
      ...(info.privateUsers ? { privateUsers: info.privateUsers } : {}),
    });
    const env: NodeJS.ProcessEnv = { ...process.env, SYSTEMD_NSPAWN_CONTAINER_SERVICE: 'rkt' };
    // On a hybrid host the pod gets a pure cgroup2 tree: nspawn's v1 emulation there is noisy and partial.
    if (layout === 'hybrid') env['SYSTEMD_NSPAWN_UNIFIED_HIERARCHY'] = '1';
    const argv0 = joinNetnsFirst ? findInPath('nsenter') : nspawn;
    const argvAll = joinNetnsFirst ? [argv0, `--net=${nets.netnsPath ?? ''}`, '--', nspawn, ...nsArgs] : [nspawn, ...nsArgs];
    debugLog(args.debug, `exec ${argvAll.join(' ')}`);

    // exec keeps our PID: the ppid file names the process whose single child is the pod's systemd.
    await fs.writeFile(ppidPath(podDir), `${process.pid}\n`);
    setCloexec(fd, false);
    return execve(argv0, argvAll, env);
  } catch (err) {
    // nspawn never started: nothing else will release the netns, veths, leases and port rules.
    if (nets.netnsPath !== undefined) await rollbackNetworks(podDir, fd, args.debug);
    throw err;
  }
}

runEntrypoint('run', run);
