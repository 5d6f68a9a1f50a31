// The flag table of the pod grammar (run, prepare, run-prepared, app sandbox, app add): which commands take
// each flag, how its value is read, and what `--help` says about it. app-args.ts parses with it and
// pod-flags-help.ts renders it, so a flag cannot be accepted without being listed, or the other way round.
import type { PodCommand } from '../pod/pod-args.js';

/** value: `--f=V` or `--f V`; bool: bare or `=true|false`; optional: bare takes a default, else `=V` only. */
export type FlagKind = 'value' | 'bool' | 'optional';

export interface FlagSpec {
  kind: FlagKind;
  /** Per-app flag (applies to the preceding image). */
  app?: boolean;
  /** Which commands accept it. */
  cmds: readonly PodCommand[];
  /** The value's form as help shows it after `=` (value and optional flags). */
  value?: string;
  /** One line for --help. */
  help: string;
  /** What applies when the flag is not given, where something does. */
  default?: string;
  /** Where one command does something else with the flag than `help` says. */
  helpFor?: Partial<Record<PodCommand, string>>;
}

const RUN_PREP: readonly PodCommand[] = ['run', 'prepare'];
const PER_APP: readonly PodCommand[] = ['run', 'prepare', 'app-add'];
/** Prepare-time pod flags a sandbox takes too (it has no apps: no env, ports or pod manifest). */
const POD_PREP: readonly PodCommand[] = ['run', 'prepare', 'app-sandbox'];
const RUNTIME: readonly PodCommand[] = ['run', 'run-prepared', 'app-sandbox'];
const ALL: readonly PodCommand[] = ['run', 'prepare', 'run-prepared', 'app-sandbox'];
/** Per-app, and pod-wide for a sandbox (which has no image for them to follow). */
const LABELS: readonly PodCommand[] = [...PER_APP, 'app-sandbox'];

export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  // per-app
  '--exec': { kind: 'value', app: true, cmds: PER_APP, value: 'PATH', help: "replace the image's exec (OCI: its Entrypoint, dropping its Cmd)" },
  '--name': { kind: 'value', app: true, cmds: PER_APP, value: 'NAME', help: 'the app name', default: 'from the image name' },
  '--user': { kind: 'value', app: true, cmds: PER_APP, value: 'UID|NAME', help: "run the app as this user instead of the image's" },
  '--group': { kind: 'value', app: true, cmds: PER_APP, value: 'GID|NAME', help: "run the app with this group instead of the image's" },
  '--supplementary-gids': { kind: 'value', app: true, cmds: PER_APP, value: 'GID[,GID...]', help: "the app's supplementary groups" },
  '--working-dir': { kind: 'value', app: true, cmds: PER_APP, value: 'DIR', help: "the app's working directory" },
  '--readonly-rootfs': { kind: 'bool', app: true, cmds: PER_APP, help: "mount the app's root filesystem read-only", default: 'false' },
  '--environment': { kind: 'value', app: true, cmds: PER_APP, value: 'NAME=VALUE', help: 'set a variable for this app; wins over every other source (repeatable)' },
  '--mount': { kind: 'value', app: true, cmds: PER_APP, value: 'volume=NAME,target=PATH', help: 'mount a pod volume into the app; before any image: into every app (repeatable)' },
  '--mnt-volume': { kind: 'value', app: true, cmds: ['app-add'], value: 'name=NAME,kind=host,source=PATH,target=PATH[,readOnly=true]',
    help: 'give the running pod a new host volume and mount it into this app (repeatable)' },
  '--memory': { kind: 'value', app: true, cmds: PER_APP, value: 'SIZE', help: "memory limit, e.g. 50M or 1G (replaces the image's isolator)" },
  '--cpu': { kind: 'value', app: true, cmds: PER_APP, value: 'QUANTITY', help: 'CPU limit, e.g. 500m or 2' },
  '--cpu-shares': { kind: 'value', app: true, cmds: PER_APP, value: 'N', help: 'relative CPU weight, 2..262144 (cgroup v1 shares)' },
  '--caps-retain': { kind: 'value', app: true, cmds: PER_APP, value: 'CAP[,CAP...]', help: 'keep only these capabilities' },
  '--caps-remove': { kind: 'value', app: true, cmds: PER_APP, value: 'CAP[,CAP...]', help: 'drop these capabilities from the default set' },
  '--seccomp': { kind: 'value', app: true, cmds: PER_APP, value: 'mode=retain|remove[,errno=E],SYSCALL...', help: 'seccomp filter: syscall names and @sets to allow (retain) or deny (remove)' },
  '--oom-score-adj': { kind: 'value', app: true, cmds: PER_APP, value: 'N', help: "the app's OOM score adjustment, -1000..1000" },
  '--socket-activated-port': { kind: 'value', app: true, cmds: RUN_PREP, value: 'NAME|PORT[/tcp|udp]', help: "mark the image's port as socket-activated (an OCI image's port is PORT-PROTO; repeatable)" },
  '--stdin': { kind: 'value', app: true, cmds: PER_APP, value: 'null|stream', help: "stream: the app reads a stdin that `rkt attach` (and CRI Attach) writes to", default: 'null' },
  '--stdin-once': { kind: 'bool', app: true, cmds: PER_APP, help: "with --stdin=stream: the app's stdin ends when the first attach's does", default: 'false' },
  '--signature': { kind: 'value', app: true, cmds: PER_APP, value: 'FILE', help: 'a local detached signature for this image' },
  '--user-annotation': { kind: 'value', app: true, cmds: LABELS, value: 'NAME=VALUE', help: 'a user annotation for the app (repeatable)',
    helpFor: { 'app-sandbox': 'a user annotation for the pod (repeatable)' } },
  '--user-label': { kind: 'value', app: true, cmds: LABELS, value: 'NAME=VALUE', help: 'a user label for the app (repeatable)',
    helpFor: { 'app-sandbox': 'a user label for the pod (repeatable)' } },
  '--annotation': { kind: 'value', app: true, cmds: LABELS, value: 'NAME=VALUE', help: 'an annotation for the app (repeatable)',
    helpFor: { 'app-sandbox': 'an annotation for the pod (repeatable)' } },
  // pod-wide, prepare time
  '--volume': { kind: 'value', cmds: POD_PREP, value: 'NAME,kind=host|empty[,KEY=VALUE...]', help: 'declare a pod volume: kind=host with source=PATH, or kind=empty (repeatable)' },
  '--set-env': { kind: 'value', cmds: RUN_PREP, value: 'NAME=VALUE', help: 'set a variable for every app (repeatable)' },
  '--set-env-file': { kind: 'value', cmds: RUN_PREP, value: 'FILE', help: 'read NAME=VALUE lines for every app from FILE (repeatable)' },
  '--inherit-env': { kind: 'bool', cmds: RUN_PREP, help: "pass rkt's own environment to the apps", default: 'false' },
  '--no-overlay': { kind: 'bool', cmds: POD_PREP, help: 'copy the image trees instead of mounting overlays', default: 'false' },
  '--private-users': { kind: 'bool', cmds: POD_PREP, help: 'run the pod in a user namespace with a uid/gid range of its own', default: 'false' },
  '--pod-manifest': { kind: 'value', cmds: RUN_PREP, value: 'FILE', help: 'take the pod from an appc pod manifest instead of images and flags' },
  '--pull-policy': { kind: 'value', cmds: [...POD_PREP, 'app-add'], value: 'new|update|never', help: 'new: store first, update: ask the remote, never: store only', default: 'new',
    helpFor: { 'app-sandbox': 'for the stage1 image: new (store first), update (ask the remote) or never (default: new)' } },
  '--store-only': { kind: 'bool', cmds: RUN_PREP, help: 'take images from the store only (--pull-policy=never)', default: 'false' },
  '--no-store': { kind: 'bool', cmds: RUN_PREP, help: 'always fetch images from their source (--pull-policy=update)', default: 'false' },
  '--stage1-image': { kind: 'value', cmds: POD_PREP, value: 'nspawn|kvm|PATH|URL', help: 'the stage1: a built-in flavor, or an image to fetch', default: 'stage1.d configuration, else nspawn' },
  '--stage1-name': { kind: 'value', cmds: POD_PREP, value: 'NAME[:VERSION]', help: 'the stage1 image by name (store, then discovery)' },
  '--stage1-path': { kind: 'value', cmds: POD_PREP, value: 'PATH', help: 'the stage1 image from a local file' },
  '--stage1-url': { kind: 'value', cmds: POD_PREP, value: 'URL', help: 'the stage1 image from a URL' },
  '--stage1-hash': { kind: 'value', cmds: POD_PREP, value: 'ID', help: 'the stage1 image by its sha512- ID (store only)' },
  '--stage1-from-dir': { kind: 'value', cmds: POD_PREP, value: 'FILE', help: 'a stage1 image file in the stage1 images directory' },
  '--uuid-file-save': { kind: 'value', cmds: POD_PREP, value: 'FILE', help: "write the pod's UUID to FILE" },
  '--port': {
    kind: 'value', cmds: [...RUN_PREP, 'app-sandbox'], value: 'NAME:[HOSTIP:]HOSTPORT', help: "forward a host port to the image's port NAME (repeatable)",
    helpFor: { 'app-sandbox': 'forward HOSTIP:HOSTPORT to the pod\'s PODPORT, as NAME:PROTO:PODPORT:HOSTIP:HOSTPORT (repeatable)' },
  },
  '--quiet': { kind: 'bool', cmds: ['prepare'], help: 'print only the UUID, without the "prepared" line', default: 'false' },
  // pod-wide, run time
  '--net': { kind: 'optional', cmds: RUNTIME, value: 'NAME[,NAME...]', help: 'default, default-restricted, host, none, all, or CNI networks (NAME:K=V;K=V adds CNI args); bare --net: default', default: 'default' },
  '--dns': { kind: 'value', cmds: RUNTIME, value: 'IP|host|none', help: "a nameserver for the apps' resolv.conf; host: the host's file; none: no file (repeatable)" },
  '--dns-search': { kind: 'value', cmds: RUNTIME, value: 'DOMAIN', help: 'a resolv.conf search domain (repeatable)' },
  '--dns-opt': { kind: 'value', cmds: RUNTIME, value: 'OPTION', help: 'a resolv.conf option (repeatable)' },
  '--dns-domain': { kind: 'value', cmds: RUNTIME, value: 'DOMAIN', help: 'the resolv.conf domain' },
  '--hosts-entry': { kind: 'value', cmds: RUNTIME, value: 'IP=NAME|host', help: "an /etc/hosts line for the apps; host: the host's file (repeatable)" },
  '--hostname': { kind: 'value', cmds: RUNTIME, value: 'NAME', help: "the pod's hostname", default: 'rkt-UUID' },
  '--interactive': { kind: 'bool', cmds: RUNTIME, help: 'give the app the terminal (one app only)', default: 'false',
    helpFor: { 'app-sandbox': 'refused when true: a sandbox starts with no app to give the terminal to' } },
  '--mds-register': { kind: 'bool', cmds: ALL, help: 'register the pod with the running rkt metadata-service', default: 'false',
    helpFor: { prepare: 'accepted and ignored: the pod registers when it runs (rkt run-prepared --mds-register)' } },
};

/** The flags `command` accepts, in table order. */
export function flagsFor(command: PodCommand): [string, FlagSpec][] {
  return Object.entries(FLAGS).filter(([, spec]) => spec.cmds.includes(command));
}
