// The kvm flavor's answers to the run pipeline: never the host's network, a VM sized from the apps (or a
// mutable pod's sandbox annotations), volumes at /rkt/volumes over 9p, the tree shifted onto the pod's
// --private-users range, and an exec of kvm-supervise (sh), which runs QEMU and maps the apps' exit codes.
import fs from 'node:fs/promises';
import { openSync, constants as fsc } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Volume } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { setCloexec } from '../../common/native.js';
import { machineId, stage1RootfsPath } from '../../common/pod-layout.js';
import { debugLog } from '../../stage1-shared/entrypoint.js';
import { machineRegistration, type MachineRegistration } from '../../stage1-shared/machined.js';
import type { PodNetworks } from '../../stage1-shared/networking/setup.js';
import type { ExecCommand, LaunchPrep, RunContext, Stage1RunFlavor } from '../../stage1-shared/run/flavor.js';
import { withLockCloexec } from '../../stage1-shared/run/lock-fd.js';
import { podWithEffectiveApps } from '../../stage1-shared/run/pod-input.js';
import { podVolumeSeeds, podVolumes, prepareEmptyVolume, type AppUnitSpec } from '../../stage1-shared/units/index.js';
import { reaperDropIn } from '../launch/reaper-poweroff.js';
import { createCgroups, qemuCgroupDirs } from '../launch/cgroup.js';
import { writeGuestFiles } from '../launch/guest-files.js';
import { writeGuestNetwork } from '../launch/guest-net.js';
import { writeMdsWarmup } from '../launch/mds-warmup.js';
import { shiftTree } from '../launch/ownership.js';
import { makePlan, qemuUidFor, type LaunchFds, type LaunchPlan, type PlanInput } from '../launch/plan.js';
import { prepareGuestNics, type GuestNic } from '../networking/kvm-guest.js';
import { chooseAccel, type AccelDecision } from '../vm-config/accel.js';
import { resolveKernel } from '../vm-config/kernel.js';
import { appMemoryBudgetMiB, sandboxResources, vmResources, type VmResources } from '../vm-config/resources.js';
import { KVM_RUN_DIR, kvmTraits, type KvmState } from './traits.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface KvmHost {
  diskShift: number;
  accel: AccelDecision;
  kernel: string;
  resources: VmResources;
  cgroups: string[];
  volumes: Volume[];
  fds: LaunchFds;
  tscKhz?: number;
  registration: MachineRegistration;
}

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

/** kvm-supervise: next to the entrypoint wrappers in the stage1 rootfs, or in the source tree (tests). */
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

async function prepareHost(ctx: RunContext): Promise<KvmHost> {
  const { args, podDir, input } = ctx;
  const accel = await chooseAccel(process.env['RKT_KVM_ACCEL']);
  debugLog(args.debug, `accelerator: ${accel.accel} (${accel.reason})`);
  const kernel = await resolveKernel(args.localConfig, ctx.root);
  // A mutable pod's apps arrive later: its size is declared up front.
  const resources = args.mutable
    ? sandboxResources(input.pod.annotations, os.availableParallelism())
    : vmResources(podWithEffectiveApps(input), os.availableParallelism());
  debugLog(args.debug, `vm: ${resources.vcpus} vCPU, ${resources.memoryMiB} MiB, kernel ${kernel}`);
  const cgroups = await qemuCgroupDirs(args.uuid);
  const volumes = [...podVolumes(input.pod).values()];
  const runDir = path.join(podDir, KVM_RUN_DIR);
  await fs.mkdir(runDir, { recursive: true, mode: 0o700 });
  const fds: LaunchFds = {
    root: openForQemu(ctx.root),
    kernel: openForQemu(kernel),
    runDir: openForQemu(runDir),
    volumes: volumes.filter((v) => v.kind === 'host' && v.source !== undefined).map((v) => openForQemu(v.source ?? '')),
  };
  const tscKhz = await hostTscKhz();
  const registration = machineRegistration();
  debugLog(args.debug, registration === 'none' ? 'systemd-machined: not reachable, the VM is not registered'
    : `systemd-machined: ${registration === 'create' ? 'CreateMachine (a scope of its own)' : 'RegisterMachine (in the unit rkt runs in)'} once QEMU is up`);
  // QEMU's user namespace does the mapping: the units see the ids unshifted.
  return { diskShift: 0, accel, kernel, resources, cgroups, volumes, fds, registration, ...(tscKhz !== undefined ? { tscKhz } : {}) };
}

async function prepareLaunch(
  ctx: RunContext, host: KvmHost, nets: PodNetworks, specs: readonly AppUnitSpec[], metadataUrl: string | undefined,
): Promise<LaunchPrep<KvmState, LaunchPlan>> {
  const { args, podDir } = ctx;
  const appNames = specs.map((s) => s.name);
  let nics: GuestNic[] = [];
  if (nets.netnsPath !== undefined) {
    const owner = args.privateUsers ? args.privateUsers.shift : qemuUidFor(args.uuid);
    const netnsPath = nets.netnsPath;
    nics = await withLockCloexec(ctx.lockFd, () => prepareGuestNics({ netnsPath, netInfo: nets.netInfo, tapUid: owner, tapGid: owner }));
    debugLog(args.debug, `guest nics: ${nics.map((n) => `${n.guestIfName}=${n.ip}/${n.prefixLength} on ${n.tapName}`).join(', ')}`);
  }
  const input: PlanInput = {
    fds: host.fds, podDir, uuid: args.uuid, apps: appNames, mutable: args.mutable, volumes: host.volumes, accel: host.accel,
    resources: host.resources, kernel: host.kernel, debug: args.debug, interactive: args.interactive, cgroups: host.cgroups,
    registration: host.registration, ...(host.tscKhz !== undefined ? { tscKhz: host.tscKhz } : {}),
    ...(args.privateUsers ? { privateUsers: args.privateUsers } : {}),
    ...(nets.netnsPath !== undefined ? { netnsPath: nets.netnsPath, nics } : {}),
  };
  const plan = makePlan(input);
  await writeGuestNetwork(podDir, nics, appNames);
  await writeGuestFiles(podDir, { machineId: machineId(args.uuid), hostname: ctx.hostname, volumes: plan.guestVolumes });
  if (metadataUrl !== undefined) await writeMdsWarmup(podDir, metadataUrl, appNames);
  // Unshifted: with --private-users the shift below takes the volumes (in the tree) along.
  const seeds = podVolumeSeeds(ctx.input.pod);
  for (const v of host.volumes) {
    if (v.kind !== 'empty') continue;
    await prepareEmptyVolume({ podDir, dir: path.join(ctx.root, 'rkt/volumes', v.name), volume: v, seeds });
  }
  if (args.privateUsers) {
    const n = await shiftTree(ctx.root, args.privateUsers);
    debugLog(args.debug, `private users ${args.privateUsers.shift}:${args.privateUsers.count}: ${n} entries shifted`);
  }
  await fs.chown(path.join(podDir, KVM_RUN_DIR), plan.qemuHostUid, plan.qemuHostUid);
  await createCgroups(host.cgroups);
  const state: KvmState = {
    accel: host.accel.accel, accelReason: host.accel.reason, vcpus: host.resources.vcpus, memoryMiB: host.resources.memoryMiB,
    appMemoryMiB: appMemoryBudgetMiB(host.resources), kernel: host.kernel,
    qmpSocket: `${KVM_RUN_DIR}/qmp.sock`, agentSocket: `${KVM_RUN_DIR}/agent.sock`, cgroups: host.cgroups,
    qemuUser: args.privateUsers ? { userns: { ...args.privateUsers } } : { uid: plan.qemuHostUid },
  };
  return { state, launch: plan };
}

async function launch(ctx: RunContext, plan: LaunchPlan): Promise<ExecCommand> {
  const supervisor = await supervisorPath(ctx.podDir);
  return { file: '/bin/sh', argv: ['/bin/sh', supervisor, ...plan.qemu], env: { ...process.env, ...plan.env } };
}

export const kvmRunFlavor: Stage1RunFlavor<KvmState, KvmHost, LaunchPlan> = {
  ...kvmTraits,
  hostSocketsRefusal: 'the kvm stage1 cannot hand host sockets to a VM (its guest kernel has its own sockets and network stack)',
  networkPlan(args) {
    if (args.net.includes('host')) {
      throw new RktError('NETWORK', 'the kvm stage1 cannot share the host network: a VM has its own kernel and network stack', {
        hint: 'run kvm pods with --net=default (or another CNI network), or --net=none',
      });
    }
    return args.net.every((n) => n === 'none') ? 'none' : 'cni';
  },
  prepareHost,
  // A mutable pod keeps running when its apps are done: no poweroff once they all have a status.
  extraUnits: (ctx, specs) => (ctx.args.mutable ? [] : [reaperDropIn(specs.map((s) => s.name))]),
  prepareLaunch: (ctx, host, nets, specs, runtime) => prepareLaunch(ctx, host, nets, specs, runtime.metadataUrl),
  launch,
};
