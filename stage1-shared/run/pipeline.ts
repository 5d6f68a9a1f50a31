// The run entrypoint of every flavor: one pipeline, in this order -
//   args -> lock fd -> pod and images -> (flavor: network plan, host preparation) -> networks (rolled back
//   on any later failure) -> /etc files -> unit specs -> accounts and units -> enter profiles ->
//   (flavor: pre-launch preparation) -> record -> seal -> (flavor: launch) -> exec.
// The flavor's answers come from its Stage1RunFlavor value (flavor.ts). No Node process outlives the exec.
import { RktError } from '../../common/errors.js';
import { keepPassedFdsAcrossExec } from '../../common/listen-fds.js';
import { execve, setCloexec } from '../../common/native.js';
import { handoverNs, PhaseClock, processStartNs } from '../../common/phase-clock.js';
import { machineName, stage1RootfsPath } from '../../common/pod-layout.js';
import { parseRunArgs } from '../../common/stage1-contract.js';
import { buildAppSpec, ensureAppAccounts, enterProfileOf } from '../app-files.js';
import { debugLog } from '../entrypoint.js';
import { writePodEtc } from '../networking/pod-etc.js';
import type { PodNetworks } from '../networking/setup.js';
import { writeStage1Record, type RuntimeRecord } from '../record/stage1-record.js';
import { sealStage1Dir } from '../seal-stage1.js';
import type { AppUnitSpec } from '../units/app-spec.js';
import { metadataHostAddress, metadataUrl } from '../units/metadata-url.js';
import { podUnitFiles, UNIT_DIR, writePodFiles } from '../units/pod-units.js';
import { assignSockets, describePassedSocket, earlySocketLoader, passedSocketFds, socketUnit, socketUnitName, type ActivatedPort } from '../units/socket-activation.js';
import type { ExecCommand, HostPrep, RunContext, Stage1RunFlavor } from './flavor.js';
import type { PodInput } from './pod-input.js';
import { lockFdFromEnv } from './lock-fd.js';
import { NO_NETWORKS, rollbackNetworks, setupNetworks, type NetworkPlan } from './networks.js';
import { effectiveApps, readPodInput } from './pod-input.js';

export async function runPod<S, H extends HostPrep, L>(flavor: Stage1RunFlavor<S, H, L>, argv: readonly string[], podDir = process.cwd()): Promise<never> {
  // From stage0's exec of this entrypoint: node's start-up and module loading are this side's first phase.
  const clock = new PhaseClock(handoverNs() ?? processStartNs());
  clock.mark('start-up (exec, node, modules)');
  const args = parseRunArgs(argv);
  const lockFd = lockFdFromEnv();
  const input = await readPodInput(podDir);
  clock.mark('pod manifest and images read');
  if (input.pod.apps.length === 0 && !args.mutable) {
    throw new RktError('POD_INVALID', 'the pod has no apps', { hint: 'only a mutable pod (rkt app sandbox) starts without apps' });
  }
  const ctx: RunContext = { args, podDir, root: stage1RootfsPath(podDir), lockFd, input, hostname: args.hostname ?? machineName(args.uuid) };
  const plan = flavor.networkPlan(args, input.pod);
  const host = await flavor.prepareHost(ctx);
  clock.mark('host prepared');
  const nets = plan === 'cni'
    ? await setupNetworks(podDir, args, input.pod, effectiveApps(input).flatMap((a) => a.ports ?? []), lockFd)
    : NO_NETWORKS;
  if (plan === 'cni') clock.mark('networks set up (CNI)');
  try {
    const cmd = await prepareAndLaunch(flavor, ctx, host, plan, nets, clock);
    for (const line of clock.lines('stage1')) debugLog(args.debug, line);
    debugLog(args.debug, `exec ${cmd.argv.join(' ')}`);
    setCloexec(lockFd, false);
    keepPassedFdsAcrossExec();
    return execve(cmd.file, cmd.argv, cmd.env);
  } catch (err) {
    if (plan === 'cni') await rollbackNetworks(podDir, lockFd, args.debug);
    throw err;
  }
}

async function prepareAndLaunch<S, H extends HostPrep, L>(
  flavor: Stage1RunFlavor<S, H, L>, ctx: RunContext, host: H, plan: NetworkPlan, nets: PodNetworks, clock: PhaseClock,
): Promise<ExecCommand> {
  const { args, podDir, input } = ctx;
  const runtime = await runtimeRecord(ctx, host, plan, nets);
  const specs: AppUnitSpec[] = [];
  for (const [i, app] of input.pod.apps.entries()) {
    const image = input.images[i];
    if (image === undefined) throw new RktError('INTERNAL', `no image manifest read for app ${app.name}`);
    specs.push(await buildAppSpec(podDir, flavor, runtime, input.pod, app, image, { interactive: args.interactive }));
  }
  const sockets = socketActivatedPorts(flavor, input, specs);
  if (sockets.length > 0) debugLog(args.debug, `socket-activated ports: ${sockets.map((p) => `${p.app}/${p.port.name} on ${p.passed ? `${p.passed.address} (fd ${p.passed.fd} from the service manager)` : `${p.port.port} in the pod`}`).join(', ')}`);
  await ensureAppAccounts(podDir, specs);
  await writePodFiles(ctx.root, [
    ...podUnitFiles(specs, { mutable: args.mutable }), ...flavor.extraUnits(ctx, specs),
    ...sockets.map((p) => ({ path: `${UNIT_DIR}/${socketUnitName(p.app, p.port.name)}`, content: socketUnit(p), mode: 0o644 })),
    ...passedSocketLoader(sockets),
  ]);
  clock.mark('app units and accounts written');
  const apps = Object.fromEntries(specs.map((s) => [s.name, enterProfileOf(s)]));
  const prep = await flavor.prepareLaunch(ctx, host, nets, specs, runtime);
  await writeStage1Record(podDir, flavor.record, { flavor: flavor.record.flavor, runtime, apps, flavorState: prep.state });
  if (prep.unsealedWhy === undefined) await sealStage1Dir(ctx.root);
  else debugLog(args.debug, `${ctx.root}/stage1 is not sealed read-only: ${prep.unsealedWhy}`);
  clock.mark('flavor prepared the launch; record written');
  const cmd = await flavor.launch(ctx, prep.launch);
  clock.mark('launch command built');
  return cmd;
}

/** The apps' socket-activated ports, each with the socket the service manager passed for it; the app specs learn their socket units. */
function socketActivatedPorts<S, H extends HostPrep, L>(flavor: Stage1RunFlavor<S, H, L>, input: PodInput, specs: AppUnitSpec[]): ActivatedPort[] {
  const fds = passedSocketFds(process.env, process.pid);
  if (fds.length > 0 && flavor.hostSocketsRefusal !== undefined) {
    throw new RktError('USAGE', `rkt run was given ${fds.length} socket(s) by the service manager (LISTEN_FDS), but ${flavor.hostSocketsRefusal}`, {
      hint: 'pick a stage1 that takes host sockets (docs/commands/run.md, Socket activation), or publish the port with --port', exitCode: 254,
    });
  }
  const apps = effectiveApps(input).map((a, i) => ({ name: input.pod.apps[i]?.name ?? '', ports: a.ports }));
  const ports = assignSockets(apps, fds.map(describePassedSocket));
  for (const p of ports) {
    const spec = specs.find((s) => s.name === p.app);
    if (spec) spec.sockets = [...(spec.sockets ?? []), socketUnitName(p.app, p.port.name)];
  }
  return ports;
}

function passedSocketLoader(sockets: readonly ActivatedPort[]): { path: string; content: string; mode: number }[] {
  const passed = sockets.filter((p) => p.passed !== undefined).map((p) => socketUnitName(p.app, p.port.name));
  return passed.length > 0 ? [{ ...earlySocketLoader(passed), mode: 0o644 }] : [];
}

/** The pod's /etc files and metadata URL, and with them everything an app added later needs (app-files.ts). */
async function runtimeRecord(ctx: RunContext, host: HostPrep, plan: NetworkPlan, nets: PodNetworks): Promise<RuntimeRecord> {
  const { args, podDir, hostname } = ctx;
  const podEtc = await writePodEtc(podDir, { mode: args.dnsConfMode, hostNetwork: plan === 'host', hostname, cniDns: nets.cniDns });
  // Without any network (a VM with --net=none) no address reaches the host's metadata service.
  const mdsUrl = args.mdsToken === undefined || plan === 'none' ? undefined
    : await metadataUrl(podDir, args.mdsToken, metadataHostAddress(plan === 'host', nets.netInfo));
  if (mdsUrl !== undefined) debugLog(args.debug, `metadata service for the apps: ${mdsUrl.replace(/\/[^/]*$/, '/<token>')}`);
  return {
    hostname, mutable: args.mutable, diskShift: host.diskShift,
    disableCapabilities: args.disableCapabilities, disablePaths: args.disablePaths, disableSeccomp: args.disableSeccomp,
    podEtc, ...(args.privateUsers ? { privateUsers: { ...args.privateUsers } } : {}),
    ...(mdsUrl !== undefined ? { metadataUrl: mdsUrl } : {}),
  };
}
