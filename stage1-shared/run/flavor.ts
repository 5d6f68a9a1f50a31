// The value a flavor hands the run pipeline (pipeline.ts): the few answers in which nspawn and kvm differ.
// A third flavor is a folder with one of these and its launcher; the steps themselves are the pipeline's.
import type { PodManifest } from '../../common/appc/index.js';
import type { RunArgs } from '../../common/stage1-contract.js';
import type { FlavorTraits } from '../flavor-traits.js';
import type { PodNetworks } from '../networking/setup.js';
import type { RuntimeRecord } from '../record/stage1-record.js';
import type { AppUnitSpec } from '../units/app-spec.js';
import type { PodFile } from '../units/pod-units.js';
import type { NetworkPlan } from './networks.js';
import type { PodInput } from './pod-input.js';

/** What every step sees. */
export interface RunContext {
  args: RunArgs;
  podDir: string;
  /** The stage1 rootfs: the container's root, or the VM's. */
  root: string;
  /** RKT_LOCK_FD, already checked. */
  lockFd: number;
  input: PodInput;
  hostname: string;
}

/** The host-side preparation's result; `diskShift` is how the flavor maps users onto the pod's files. */
export interface HostPrep {
  diskShift: number;
}

export interface LaunchPrep<S, L> {
  /** The flavor's own section of the record. */
  state: S;
  /** What `launch` needs (not recorded). */
  launch: L;
  /** Set when stage1/ must stay writable: the reason, for --debug. */
  unsealedWhy?: string;
}

/** The program the run entrypoint becomes; it inherits the pod lock. */
export interface ExecCommand {
  file: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

export interface Stage1RunFlavor<S, H extends HostPrep, L> extends FlavorTraits<S> {
  /**
   * Set when the flavor cannot hand the sockets `rkt run` inherited from a host socket unit to the pod's
   * systemd: why, for the one-line refusal. (Socket-activated ports still work inside the pod.)
   */
  readonly hostSocketsRefusal?: string;
  /** Which networks the pod gets; refusals of --net belong here (nothing has changed yet). */
  networkPlan(args: RunArgs, pod: PodManifest): NetworkPlan;
  /** Host-side checks and preparation before the networks exist (user mapping, volumes, VM sizing). */
  prepareHost(ctx: RunContext): Promise<H>;
  /** Units the flavor adds to the apps' (its own helpers, drop-ins). */
  extraUnits(ctx: RunContext, specs: readonly AppUnitSpec[]): PodFile[];
  /** The rest of the tree and host state, after the apps' units are written and before the record and seal. */
  prepareLaunch(ctx: RunContext, host: H, nets: PodNetworks, specs: readonly AppUnitSpec[], runtime: RuntimeRecord): Promise<LaunchPrep<S, L>>;
  /** The last step before the exec; the pipeline clears the lock's close-on-exec and execs. */
  launch(ctx: RunContext, l: L): Promise<ExecCommand>;
}
