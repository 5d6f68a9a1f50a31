// The kvm stage1's run entrypoint: prepares the pod tree for the guest, decides accelerator, size and
// privileges, then replaces itself with kvm-supervise (sh), which runs QEMU and maps the apps' exit codes.
// No Node process stays alive while the pod runs.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RktError, isRktError } from '../../common/errors.js';
import { execve, setCloexec } from '../../common/native.js';
import { openSync, constants as fsc } from 'node:fs';
import { LOCK_FD_ENV } from '../../common/stage1-contract.js';
import { machineId, podManifestPath, stage1RootfsPath } from '../../common/pod-layout.js';
import { parseRunArgs, type RunArgs } from '../../common/stage1-contract.js';
import { appUnitSpecs, writeAppUnits } from '../launch/app-units.js';
import {
  appSandboxProperties, DEFAULT_PATH, metadataHostAddress, metadataUrl, podVolumeSeeds, podVolumes, prepareEmptyVolume,
} from '../../stage1-shared/units/index.js';
import { createCgroups, qemuCgroupDirs } from '../launch/cgroup.js';
import { KVM_RUN_DIR, writeFlavorRecord } from '../launch/flavor-record.js';
import { writeGuestFiles } from '../launch/guest-files.js';
import { shiftTree } from '../launch/ownership.js';
import { sealStage1Dir } from '../../stage1-shared/seal-stage1.js';
import { makePlan, qemuUidFor, type LaunchFds, type PlanInput } from '../launch/plan.js';
import { readPod, withEffectiveApps, type PodApps } from '../launch/pod.js';
import { writeGuestNetwork } from '../launch/guest-net.js';
import { writeMdsWarmup } from '../launch/mds-warmup.js';
import { resolvePortForwards, setupPodNetworks, teardownPodNetworks, type PodNetworks } from '../../stage1-shared/networking/index.js';
import { prepareGuestNics, type GuestNic } from '../networking/kvm-guest.js';
import { machineRegistration } from '../../stage1-shared/machined.js';
import { chooseAccel } from '../vm-config/accel.js';
import { resolveKernel } from '../vm-config/kernel.js';
import { vmResources } from '../vm-config/resources.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The host's TSC rate: under TCG the guest TSC ticks with it, and telling the kernel skips a calibration that
 * fails on a loaded host (the guest then hangs with no usable clock). */
async function hostTscKhz(): Promise<number | undefined> {
  const info = await fs.readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const m = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(info);
  if (!m || !/\bconstant_tsc\b/.test(info)) return undefined;
  const khz = Math.round(Number(m[1]) * 1000);
  return khz > 0 ? khz : undefined;
}

/** Opens a path QEMU will use through /proc/self/fd/<n>; the descriptor survives the exec into kvm-supervise. */
function openForQemu(p: string): number {
  let fd: number;
  try {
    fd = openSync(p, fsc.O_RDONLY);
  } catch (err) {
    throw new RktError('STAGE1', `cannot open ${p} for the VM: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  setCloexec(fd, false);
  return fd;
}

function debugLog(args: RunArgs, msg: string): void {
  if (args.debug) process.stderr.write(`stage1-kvm: ${msg}\n`);
}

/** kvm-supervise: next to this file's wrappers in the stage1 rootfs, or in the source tree (tests). */
async function supervisorPath(podDir: string): Promise<string> {
  const candidates = [
    path.join(stage1RootfsPath(podDir), 'stage1/bin/kvm-supervise'),
    path.resolve(here, '../../../stage1-kvm/rootfs-files/stage1/bin/kvm-supervise'),
  ];
  for (const c of candidates) {
    try {
      await fs.access(c);
      return c;
    } catch {
      // next
    }
  }
  throw new RktError('STAGE1', 'kvm-supervise is missing from the stage1 image', { hint: 'rebuild the stage1 images' });
}

function lockFd(): number | undefined {
  const fd = Number(process.env[LOCK_FD_ENV]);
  return Number.isInteger(fd) && fd > 2 ? fd : undefined;
}

/** CNI plugins and ip/tc are child processes: the pod lock must not leak into them. */
async function withLockCloexec<T>(f: () => Promise<T>): Promise<T> {
  const fd = lockFd();
  if (fd !== undefined) setCloexec(fd, true);
  try {
    return await f();
  } finally {
    if (fd !== undefined) setCloexec(fd, false);
  }
}

async function setupNetworks(podDir: string, podApps: PodApps, args: RunArgs): Promise<PodNetworks> {
  const appPorts = [...podApps.apps.values()].flatMap((a) => a.ports ?? []);
  return withLockCloexec(() => setupPodNetworks({
    podDir, uuid: args.uuid, net: args.net, ports: resolvePortForwards(podApps.pod.ports, appPorts),
    ...(args.localConfig !== undefined ? { localConfigDir: args.localConfig } : {}),
  }));
}

/** Undoes setupNetworks after a later failure; a teardown error must not hide the original one. */
async function rollbackNetworks(podDir: string, debug: boolean): Promise<void> {
  try {
    await withLockCloexec(() => teardownPodNetworks(podDir));
  } catch (err) {
    if (debug) process.stderr.write(`stage1-kvm: network teardown after a failed start: ${String(err)}\n`);
  }
}

export async function prepareRun(argv: readonly string[], podDir: string): Promise<{ file: string; argv: string[]; env: NodeJS.ProcessEnv }> {
  const args = parseRunArgs(argv);
  await fs.access(podManifestPath(podDir)).catch((err: unknown) => {
    throw new RktError('POD_INVALID', `${podDir} is not a pod directory (no pod manifest)`, { cause: err });
  });
  const podApps = await readPod(podDir);
  const appNames = podApps.pod.apps.map((a) => a.name);
  if (appNames.length === 0) throw new RktError('POD_INVALID', 'the pod has no apps');
  if (args.net.includes('host')) {
    throw new RktError('NETWORK', 'the kvm stage1 cannot share the host network: a VM has its own kernel and network stack', {
      hint: 'run kvm pods with --net=default (or another CNI network), or --net=none',
    });
  }
  const withNetwork = !args.net.every((n) => n === 'none');

  const accel = await chooseAccel(process.env['RKT_KVM_ACCEL']);
  debugLog(args, `accelerator: ${accel.accel} (${accel.reason})`);
  const kernel = await resolveKernel(args.localConfig, stage1RootfsPath(podDir));
  const resources = vmResources(withEffectiveApps(podApps), os.availableParallelism());
  debugLog(args, `vm: ${resources.vcpus} vCPU, ${resources.memoryMiB} MiB, kernel ${kernel}`);

  const cgroups = await qemuCgroupDirs(args.uuid);
  const volumes = [...podVolumes(podApps.pod).values()];
  const runDir = path.join(podDir, KVM_RUN_DIR);
  await fs.mkdir(runDir, { recursive: true, mode: 0o700 });
  const fds: LaunchFds = {
    root: openForQemu(stage1RootfsPath(podDir)),
    kernel: openForQemu(kernel),
    runDir: openForQemu(runDir),
    volumes: volumes.filter((v) => v.kind === 'host' && v.source !== undefined).map((v) => openForQemu(v.source ?? '')),
  };
  const tscKhz = await hostTscKhz();
  const registration = machineRegistration();
  debugLog(args, registration === 'none' ? 'systemd-machined: not reachable, the VM is not registered'
    : `systemd-machined: ${registration === 'create' ? 'CreateMachine (a scope of its own)' : 'RegisterMachine (in the unit rkt runs in)'} once QEMU is up`);
  // From here on a failure must undo the CNI setup: nothing else releases the netns, leases and rules.
  const nets = withNetwork ? await setupNetworks(podDir, podApps, args) : undefined;
  try {
    return await finishRun(args, podDir, podApps, appNames, {
      fds, podDir, uuid: args.uuid, apps: appNames, volumes, accel, resources, kernel, tscKhz, debug: args.debug,
      interactive: args.interactive, cgroups, registration, ...(args.privateUsers ? { privateUsers: args.privateUsers } : {}),
    }, nets);
  } catch (err) {
    if (nets !== undefined) await rollbackNetworks(podDir, args.debug);
    throw err;
  }
}

async function finishRun(
  args: RunArgs, podDir: string, podApps: PodApps, appNames: string[], input: PlanInput, nets: PodNetworks | undefined,
): Promise<{ file: string; argv: string[]; env: NodeJS.ProcessEnv }> {
  const { accel, resources, kernel, cgroups, volumes } = input;
  const runDir = path.join(podDir, KVM_RUN_DIR);
  let nics: GuestNic[] = [];
  if (nets?.netnsPath !== undefined) {
    const owner = args.privateUsers ? args.privateUsers.shift : qemuUidFor(args.uuid);
    nics = await withLockCloexec(() => prepareGuestNics({ netnsPath: nets.netnsPath ?? '', netInfo: nets.netInfo, tapUid: owner, tapGid: owner }));
    debugLog(args, `guest nics: ${nics.map((n) => `${n.guestIfName}=${n.ip}/${n.prefixLength} on ${n.tapName}`).join(', ')}`);
  }
  const plan = makePlan({ ...input, ...(nets?.netnsPath !== undefined ? { netnsPath: nets.netnsPath, nics } : {}) });
  await writeGuestNetwork(podDir, nics, appNames);

  await writeGuestFiles(podDir, {
    machineId: machineId(args.uuid),
    hostname: args.hostname ?? `rkt-${args.uuid}`,
    volumes: plan.guestVolumes,
  });
  // The VM never shares the host network: apps reach the host's metadata service on the host side of the
  // pod's first network; with --net=none there is no such address, so no AC_METADATA_URL.
  const mdsUrl = args.mdsToken === undefined || nets === undefined ? undefined
    : await metadataUrl(podDir, args.mdsToken, metadataHostAddress(false, nets.netInfo));
  if (mdsUrl !== undefined) debugLog(args, `metadata service for the apps: ${mdsUrl.replace(/\/[^/]*$/, '/<token>')}`);
  const specs = await appUnitSpecs(podDir, podApps, args, nets?.cniDns, mdsUrl);
  if (mdsUrl !== undefined) await writeMdsWarmup(podDir, mdsUrl, appNames);
  await writeAppUnits(podDir, specs);
  // Unshifted: with --private-users the shift below takes the volumes (in the tree) along.
  const seeds = podVolumeSeeds(podApps.pod);
  for (const v of volumes) {
    if (v.kind !== 'empty') continue;
    await prepareEmptyVolume({ podDir, dir: path.join(stage1RootfsPath(podDir), 'rkt/volumes', v.name), volume: v, seeds });
  }
  if (args.privateUsers) {
    const n = await shiftTree(stage1RootfsPath(podDir), args.privateUsers);
    debugLog(args, `private users ${args.privateUsers.shift}:${args.privateUsers.count}: ${n} entries shifted`);
  }

  await sealStage1Dir(stage1RootfsPath(podDir));
  await fs.chown(runDir, plan.qemuHostUid, plan.qemuHostUid);
  await createCgroups(cgroups);
  await writeFlavorRecord(podDir, {
    flavor: 'kvm', accel: accel.accel, accelReason: accel.reason, vcpus: resources.vcpus, memoryMiB: resources.memoryMiB,
    kernel, qmpSocket: `${KVM_RUN_DIR}/qmp.sock`, agentSocket: `${KVM_RUN_DIR}/agent.sock`, cgroups,
    qemuUser: args.privateUsers ? { userns: args.privateUsers } : { uid: plan.qemuHostUid },
    apps: Object.fromEntries(specs.map((s) => [s.name, {
      properties: appSandboxProperties(s).map(([k, v]): [string, string] => [k, v]),
      path: s.env.find((e) => e.name === 'PATH')?.value ?? DEFAULT_PATH,
      workingDirectory: s.workingDirectory,
    }])),
  });
  const supervisor = await supervisorPath(podDir);
  debugLog(args, `exec ${supervisor} ${plan.qemu.join(' ')}`);
  return { file: '/bin/sh', argv: ['/bin/sh', supervisor, ...plan.qemu], env: { ...process.env, ...plan.env } };
}

async function main(): Promise<number> {
  try {
    const r = await prepareRun(process.argv.slice(2), process.cwd());
    // The pod lock must survive into kvm-supervise (and QEMU, which then holds it for as long as the
    // VM lives); execve itself restores stdio.
    const lockFd = Number(process.env[LOCK_FD_ENV]);
    if (Number.isInteger(lockFd) && lockFd > 2) setCloexec(lockFd, false);
    execve(r.file, r.argv, r.env);
  } catch (err) {
    const msg = isRktError(err) ? err.message : err instanceof Error ? err.message : String(err);
    process.stderr.write(`stage1: ${msg}\n`);
    if (isRktError(err) && err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    return isRktError(err) ? err.exitCode : 254;
  }
}

process.exitCode = await main();
