// The parsed pod command line (run, prepare, run-prepared, app sandbox, app add) as prepare, the manifest
// generator and the handover consume it; stage0/cli/app-args.ts parses the words into it.
import type { Volume } from '../../common/appc/index.js';
import type { PortFlag } from '../../common/networking/port-forward.js';

export type PodCommand = 'run' | 'prepare' | 'run-prepared' | 'app-sandbox' | 'app-add';

export interface MountArg {
  volume: string;
  target: string;
}

export interface MntVolumeArg {
  volume: Volume;
  target: string;
}

export interface AppArg {
  image: string;
  /** Words between `--` and `---` (appended to the exec). */
  args?: string[];
  exec?: string;
  name?: string;
  user?: string;
  group?: string;
  supplementaryGids?: number[];
  workingDir?: string;
  readonlyRootfs?: boolean;
  environment: { name: string; value: string }[];
  mounts: MountArg[];
  /** rkt app add --mnt-volume: host volumes the running pod gains, each mounted into this app. */
  mntVolumes: MntVolumeArg[];
  memory?: string;
  cpu?: string;
  cpuShares?: number;
  capsRetain?: string[];
  capsRemove?: string[];
  seccomp?: { mode: 'retain' | 'remove'; errno?: string; set: string[] };
  oomScoreAdj?: number;
  /** --socket-activated-port: port names (or PORT[/PROTO]) to mark socketActivated. */
  socketActivatedPorts?: string[];
  signature?: string;
  userAnnotations: Record<string, string>;
  userLabels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Stage1Flags {
  image?: string;
  name?: string;
  path?: string;
  url?: string;
  hash?: string;
  fromDir?: string;
}

export interface PodArgs {
  command: PodCommand;
  apps: AppArg[];
  /** run-prepared's pod uuid (its single positional). */
  uuid?: string;
  podMounts: MountArg[];
  volumes: Volume[];
  setEnv: { name: string; value: string }[];
  setEnvFiles: string[];
  inheritEnv: boolean;
  net: string[];
  netGiven: boolean;
  dns: string[];
  dnsSearch: string[];
  dnsOpt: string[];
  dnsDomain?: string;
  hostsEntries: string[];
  /** --port=NAME:[HOSTIP:]HOSTPORT, written to the pod manifest's ports. */
  ports: PortFlag[];
  hostname?: string;
  interactive: boolean;
  noOverlay: boolean;
  privateUsers: boolean;
  podManifest?: string;
  pullPolicy: 'new' | 'update' | 'never';
  pullPolicyGiven: boolean;
  stage1: Stage1Flags;
  uuidFileSave?: string;
  mdsRegister: boolean;
  quiet: boolean;
  /** `rkt app sandbox`: the pod takes apps while it runs. */
  mutable: boolean;
  /** `rkt app sandbox`'s --annotation, --user-annotation, --user-label (no image precedes them: pod-wide). */
  podAnnotations: Record<string, string>;
  podUserAnnotations: Record<string, string>;
  podUserLabels: Record<string, string>;
}
