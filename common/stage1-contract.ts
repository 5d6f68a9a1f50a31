// The stage0 -> stage1 contract as types: entrypoint annotations, the argv of each entrypoint
// (builders used by stage0, parsers used by stage1s), and the environment. See docs/stage1-contract.md.
import { isACName } from './appc/names.js';
import { RktError } from './errors.js';

export const ANNOTATION_RUN = 'coreos.com/rkt/stage1/run';
export const ANNOTATION_ENTER = 'coreos.com/rkt/stage1/enter';
export const ANNOTATION_GC = 'coreos.com/rkt/stage1/gc';
export const ANNOTATION_STOP = 'coreos.com/rkt/stage1/stop';
/** Optional: feeds the caller's stdin to an app started with `--stdin=stream` (rkt's attach entrypoint, our argv). */
export const ANNOTATION_ATTACH = 'coreos.com/rkt/stage1/attach';
export const ANNOTATION_INTERFACE_VERSION = 'coreos.com/rkt/stage1/interface-version';
/** The mutable-pod entrypoints (rkt's `app` verbs); a stage1 with all four supports `rkt app`. */
export const ANNOTATION_APP_ADD = 'coreos.com/rkt/stage1/app/add';
export const ANNOTATION_APP_RM = 'coreos.com/rkt/stage1/app/rm';
export const ANNOTATION_APP_START = 'coreos.com/rkt/stage1/app/start';
export const ANNOTATION_APP_STOP = 'coreos.com/rkt/stage1/app/stop';
/** An extension of ours (optional): the apps' current CPU and memory use, for the CRI's stats RPCs. */
export const ANNOTATION_APP_STATS = 'rkt-ts/stage1/app/stats';
/** An extension of ours (optional): new memory and CPU limits for an app (CRI UpdateContainerResources). */
export const ANNOTATION_APP_UPDATE = 'rkt-ts/stage1/app/update';

/**
 * Ours, not rkt's: "true" when the stage1 enforces the apps' memory and cpu limits in the host's cgroup2
 * tree (nspawn). Stage0 then tells the user when this host cannot; a stage1 that enforces them elsewhere
 * (the kvm guest's own kernel) leaves it out.
 */
export const ANNOTATION_HOST_CGROUP_LIMITS = 'rkt-ts/stage1/host-cgroup-limits';

/** The interface version our own stage1s declare (and the newest this stage0 speaks). */
export const STAGE1_INTERFACE_VERSION = 5;

/** Env var carrying the fd of the pod directory, exclusively flock'ed, inherited by the run entrypoint. */
export const LOCK_FD_ENV = 'RKT_LOCK_FD';

export type Stage1Entrypoint = 'run' | 'enter' | 'gc' | 'stop' | 'attach' | AppEntrypoint | 'app-stats' | 'app-update';
export type AppEntrypoint = 'app-add' | 'app-rm' | 'app-start' | 'app-stop';

export interface Stage1Entrypoints {
  /** Paths inside the stage1 rootfs (absolute within it, e.g. "/stage1/bin/run"). */
  run?: string;
  enter?: string;
  gc?: string;
  stop?: string;
  attach?: string;
  'app-add'?: string;
  'app-rm'?: string;
  'app-start'?: string;
  'app-stop'?: string;
  'app-stats'?: string;
  'app-update'?: string;
  /** Declared interface version; 1 when the annotation is absent (as rkt). */
  interfaceVersion: number;
}

/** Reads the entrypoints from a stage1 image manifest's annotations. */
export function readStage1Entrypoints(annotations: ReadonlyArray<{ name: string; value: string }>): Stage1Entrypoints {
  const get = (n: string): string | undefined => annotations.find((a) => a.name === n)?.value;
  const rawVersion = get(ANNOTATION_INTERFACE_VERSION);
  let interfaceVersion = 1;
  if (rawVersion !== undefined) {
    if (!/^[0-9]+$/.test(rawVersion) || Number(rawVersion) < 1) {
      throw new RktError('STAGE1', `invalid stage1 manifest: ${ANNOTATION_INTERFACE_VERSION}: expected a positive decimal, got "${rawVersion}"`);
    }
    interfaceVersion = Number(rawVersion);
  }
  const out: Stage1Entrypoints = { interfaceVersion };
  const set = (key: Stage1Entrypoint, annotation: string): void => {
    const v = get(annotation);
    if (v === undefined) return;
    if (v === '' || v.split('/').includes('..')) {
      throw new RktError('STAGE1', `invalid stage1 manifest: ${annotation}: "${v}" is not a path inside the stage1 rootfs`);
    }
    out[key] = v;
  };
  set('run', ANNOTATION_RUN);
  set('enter', ANNOTATION_ENTER);
  set('gc', ANNOTATION_GC);
  set('stop', ANNOTATION_STOP);
  set('attach', ANNOTATION_ATTACH);
  set('app-add', ANNOTATION_APP_ADD);
  set('app-rm', ANNOTATION_APP_RM);
  set('app-start', ANNOTATION_APP_START);
  set('app-stop', ANNOTATION_APP_STOP);
  set('app-stats', ANNOTATION_APP_STATS);
  set('app-update', ANNOTATION_APP_UPDATE);
  return out;
}

/** Whether a stage1 can run mutable pods (`rkt app`): it names all four app entrypoints, as rkt required. */
export function supportsMutablePods(e: Stage1Entrypoints): boolean {
  return e['app-add'] !== undefined && e['app-rm'] !== undefined && e['app-start'] !== undefined && e['app-stop'] !== undefined;
}

// ---------------------------------------------------------------- run

export interface DnsConfMode {
  resolv: 'host' | 'stage0' | 'none' | 'default';
  hosts: 'host' | 'stage0' | 'default';
}

export interface RunArgs {
  debug: boolean;
  /** The --net list, split on commas ("host", "none", "default", or network names with ":args"). */
  net: string[];
  interactive: boolean;
  privateUsers?: { shift: number; count: number };
  mdsToken?: string;
  localConfig?: string;
  hostname?: string;
  dnsConfMode?: DnsConfMode;
  disableCapabilities: boolean;
  disablePaths: boolean;
  disableSeccomp: boolean;
  /**
   * A mutable pod (`rkt app sandbox`): it may start with no apps, apps are added and removed while it runs,
   * and it keeps running when its apps exit (until `rkt stop`).
   */
  mutable: boolean;
  uuid: string;
}

/**
 * Builds the run entrypoint's argv (without argv[0]) in rkt's order. `interfaceVersion` drops flags
 * the stage1 does not understand; stage0 warns about those (stage0/stage1/capabilities.ts).
 */
export function buildRunArgs(a: RunArgs, interfaceVersion: number): string[] {
  const argv: string[] = [];
  if (a.debug) argv.push('--debug');
  argv.push(`--net=${a.net.join(',')}`);
  if (a.interactive) argv.push('--interactive');
  if (a.privateUsers) argv.push(`--private-users=${a.privateUsers.shift}:${a.privateUsers.count}`);
  if (a.mdsToken !== undefined) argv.push(`--mds-token=${a.mdsToken}`);
  if (a.localConfig !== undefined) argv.push(`--local-config=${a.localConfig}`);
  if (interfaceVersion >= 2 && a.hostname !== undefined) argv.push(`--hostname=${a.hostname}`);
  if (interfaceVersion >= 4 && a.dnsConfMode && (a.dnsConfMode.resolv !== 'default' || a.dnsConfMode.hosts !== 'default')) {
    argv.push(`--dns-conf-mode=resolv=${a.dnsConfMode.resolv},hosts=${a.dnsConfMode.hosts}`);
  }
  if (interfaceVersion >= 3) {
    if (a.disableCapabilities) argv.push('--disable-capabilities-restriction');
    if (a.disablePaths) argv.push('--disable-paths');
    if (a.disableSeccomp) argv.push('--disable-seccomp');
  }
  if (a.mutable) argv.push('--mutable');
  argv.push(a.uuid);
  return argv;
}

/** Parses the run entrypoint's argv (process.argv.slice(2) in a stage1). Unknown flags are errors. */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const p = scan(argv, {
    bools: ['--debug', '--interactive', '--disable-capabilities-restriction', '--disable-paths', '--disable-seccomp', '--mutable'],
    values: ['--net', '--private-users', '--mds-token', '--local-config', '--hostname', '--dns-conf-mode'],
    entrypoint: 'run',
  });
  const uuid = onePositional(p.positionals, 'run');
  const net = p.values.get('--net');
  const out: RunArgs = {
    debug: p.bools.has('--debug'),
    net: net === undefined || net === '' ? ['default'] : net.split(','),
    interactive: p.bools.has('--interactive'),
    disableCapabilities: p.bools.has('--disable-capabilities-restriction'),
    disablePaths: p.bools.has('--disable-paths'),
    disableSeccomp: p.bools.has('--disable-seccomp'),
    mutable: p.bools.has('--mutable'),
    uuid,
  };
  const pu = p.values.get('--private-users');
  if (pu !== undefined) out.privateUsers = parsePrivateUsers(pu);
  const mds = p.values.get('--mds-token');
  if (mds !== undefined) out.mdsToken = mds;
  const lc = p.values.get('--local-config');
  if (lc !== undefined) out.localConfig = lc;
  const hn = p.values.get('--hostname');
  if (hn !== undefined) out.hostname = hn;
  const dns = p.values.get('--dns-conf-mode');
  if (dns !== undefined) out.dnsConfMode = parseDnsConfMode(dns);
  return out;
}

/** Parses `<shift>:<count>` (the --private-users value and the private-users-prepared file). */
export function parsePrivateUsers(s: string): { shift: number; count: number } {
  const m = /^([0-9]+):([0-9]+)$/.exec(s.trim());
  if (!m) throw contractError('run', `--private-users: expected <shift>:<count>, got "${s}"`);
  const shift = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || shift + count > 0x100000000) throw contractError('run', `--private-users: range ${s} is out of bounds`);
  return { shift, count };
}

export function parseDnsConfMode(s: string): DnsConfMode {
  const out: DnsConfMode = { resolv: 'default', hosts: 'default' };
  for (const part of s.split(',')) {
    const [k, v] = part.split('=', 2);
    if (k === 'resolv' && (v === 'host' || v === 'stage0' || v === 'none' || v === 'default')) out.resolv = v;
    else if (k === 'hosts' && (v === 'host' || v === 'stage0' || v === 'default')) out.hosts = v;
    else throw contractError('run', `--dns-conf-mode: expected resolv=<host|stage0|none|default>,hosts=<host|stage0|default>, got "${s}"`);
  }
  return out;
}

// ---------------------------------------------------------------- enter

export interface EnterArgs {
  pid: number;
  appName: string;
  /** The command and its args (non-empty). */
  command: string[];
  /** Seconds the command may run before the stage1 stops it (absent: no limit). */
  timeoutS?: number;
}

export function buildEnterArgs(a: EnterArgs): string[] {
  return [`--pid=${a.pid}`, `--appname=${a.appName}`, ...(a.timeoutS !== undefined ? [`--timeout=${a.timeoutS}`] : []), '--', ...a.command];
}

export function parseEnterArgs(argv: readonly string[]): EnterArgs {
  const p = scan(argv, { bools: [], values: ['--pid', '--appname', '--timeout'], entrypoint: 'enter' });
  const pid = p.values.get('--pid');
  const appName = p.values.get('--appname');
  const timeout = p.values.get('--timeout');
  if (pid === undefined || !/^[1-9][0-9]*$/.test(pid)) throw contractError('enter', `--pid: expected a process id, got "${pid ?? ''}"`);
  if (appName === undefined || appName === '') throw contractError('enter', '--appname is required');
  if (timeout !== undefined && !/^[1-9][0-9]*$/.test(timeout)) throw contractError('enter', `--timeout: expected whole seconds > 0, got "${timeout}"`);
  if (p.positionals.length === 0) throw contractError('enter', 'a command is required after "--"');
  return { pid: Number(pid), appName, command: p.positionals, ...(timeout !== undefined ? { timeoutS: Number(timeout) } : {}) };
}

// ---------------------------------------------------------------- attach

/**
 * App annotations (pod manifest) of an app whose stdin can be attached to: `stream` (rkt's key and value),
 * and ours, `true` when the app's stdin ends with the first attach's (CRI's and docker's stdin_once).
 */
export const APP_STDIN_ANNOTATION = 'coreos.com/rkt/stage2/stdin';
export const APP_STDIN_ONCE_ANNOTATION = 'rkt-ts/stage2/stdin-once';

/**
 * The unit that records an app's exit (its ExecStop). Once an app's run ended it writes one journal line,
 * after whatever the app wrote, that endedRunOf reads: readers of the pod's journal (rkt attach, CRI
 * container logs) read up to it before they say the app exited, since a kvm guest's journal reaches the
 * host a sync later than the status file.
 */
export function reaperUnitName(app: string): string {
  return `rkt-reaper@${app}.service`;
}

/** The invocation id of the run a reaper's journal line says ended, or undefined for any other line. */
export function endedRunOf(message: string): string | undefined {
  return /^rkt: app \S+ run ([0-9a-f]{32}) ended with status -?[0-9]+$/.exec(message.trimEnd())?.[1];
}

export interface AttachArgs {
  pid: number;
  appName: string;
}

export function buildAttachArgs(a: AttachArgs): string[] {
  return [`--pid=${a.pid}`, `--appname=${a.appName}`];
}

export function parseAttachArgs(argv: readonly string[]): AttachArgs {
  const p = scan(argv, { bools: [], values: ['--pid', '--appname'], entrypoint: 'attach' });
  const pid = p.values.get('--pid');
  const appName = p.values.get('--appname');
  if (pid === undefined || !/^[1-9][0-9]*$/.test(pid)) throw contractError('attach', `--pid: expected a process id, got "${pid ?? ''}"`);
  if (appName === undefined || !isACName(appName)) throw contractError('attach', `--appname: expected an app name, got "${appName ?? ''}"`);
  if (p.positionals.length > 0) throw contractError('attach', `unexpected argument "${p.positionals[0] ?? ''}"`);
  return { pid: Number(pid), appName };
}

// ---------------------------------------------------------------- stop

export interface StopArgs {
  force: boolean;
  uuid: string;
}

export function buildStopArgs(a: StopArgs): string[] {
  return [...(a.force ? ['--force'] : []), a.uuid];
}

export function parseStopArgs(argv: readonly string[]): StopArgs {
  const p = scan(argv, { bools: ['--force'], values: [], entrypoint: 'stop' });
  return { force: p.bools.has('--force'), uuid: onePositional(p.positionals, 'stop') };
}

// ---------------------------------------------------------------- gc

export interface GcArgs {
  debug: boolean;
  localConfig?: string;
  uuid: string;
}

/** gc argv; `--local-config <dir>` (two words, as rkt) only for interface version >= 5. */
export function buildGcArgs(a: GcArgs, interfaceVersion: number): string[] {
  const argv: string[] = [];
  if (a.debug) argv.push('--debug');
  if (interfaceVersion >= 5 && a.localConfig !== undefined) argv.push('--local-config', a.localConfig);
  argv.push(a.uuid);
  return argv;
}

export function parseGcArgs(argv: readonly string[]): GcArgs {
  const p = scan(argv, { bools: ['--debug'], values: ['--local-config'], entrypoint: 'gc' });
  const out: GcArgs = { debug: p.bools.has('--debug'), uuid: onePositional(p.positionals, 'gc') };
  const lc = p.values.get('--local-config');
  if (lc !== undefined) out.localConfig = lc;
  return out;
}

// ---------------------------------------------------------------- app add / rm / start / stop

/**
 * The argv of the four app entrypoints: `[--debug] --app=<name> [--timeout=<seconds>]{stop} <uuid>`.
 * Each runs (spawned, cwd = the pod dir) while the pod runs, and while stage0 holds the pod's app lock.
 * app/add finds the pod manifest that will hold the new app in `pod.next` (podManifestNextPath) and the
 * app's tree already laid out (appRootfsPath, appImageManifestPath); stage0 renames pod.next over `pod`
 * once app/add succeeded. app/rm is called for a stopped app, before stage0 drops it from `pod`.
 */
export interface AppEntrypointArgs {
  debug: boolean;
  app: string;
  uuid: string;
  /** app/stop only: seconds between the app's stop signal and SIGKILL. */
  timeoutSeconds?: number;
}

export function buildAppArgs(a: AppEntrypointArgs): string[] {
  const argv: string[] = [];
  if (a.debug) argv.push('--debug');
  argv.push(`--app=${a.app}`);
  if (a.timeoutSeconds !== undefined) argv.push(`--timeout=${a.timeoutSeconds}`);
  argv.push(a.uuid);
  return argv;
}

export function parseAppArgs(argv: readonly string[], ep: AppEntrypoint): AppEntrypointArgs {
  const p = scan(argv, { bools: ['--debug'], values: ep === 'app-stop' ? ['--app', '--timeout'] : ['--app'], entrypoint: ep });
  const app = p.values.get('--app');
  if (app === undefined || !isACName(app)) throw contractError(ep, `--app: expected an app name, got "${app ?? ''}"`);
  const out: AppEntrypointArgs = { debug: p.bools.has('--debug'), app, uuid: onePositional(p.positionals, ep) };
  const t = p.values.get('--timeout');
  if (t !== undefined) {
    if (!/^[0-9]+$/.test(t)) throw contractError(ep, `--timeout: expected whole seconds, got "${t}"`);
    out.timeoutSeconds = Number(t);
  }
  return out;
}

// ---------------------------------------------------------------- app/stats

/** One app's use now; absent fields are what its cgroup cannot tell (no memory controller: RSS stands in). */
export interface AppStats {
  running: boolean;
  /** Cumulative CPU time of the app's unit. */
  cpuUsageNs?: number;
  memoryUsageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
}

/** What app/stats prints on stdout, as one JSON object. */
export interface PodStats {
  /** When it was read: nanoseconds since the epoch, as a decimal string (beyond 2^53). */
  timestampNs: string;
  apps: Record<string, AppStats>;
}

/** app/stats' argv: `[--debug] <uuid>`; it answers for every app of the pod. */
export function buildStatsArgs(a: { debug: boolean; uuid: string }): string[] {
  return [...(a.debug ? ['--debug'] : []), a.uuid];
}

export function parseStatsArgs(argv: readonly string[]): { debug: boolean; uuid: string } {
  const p = scan(argv, { bools: ['--debug'], values: [], entrypoint: 'app-stats' });
  return { debug: p.bools.has('--debug'), uuid: onePositional(p.positionals, 'app-stats') };
}

/** Parses app/stats' stdout strictly: a stage1 is a separate program, its answer is input. */
export function parsePodStats(text: string): PodStats {
  const bad = (why: string): RktError => new RktError('STAGE1', `stage1 app-stats printed no valid answer: ${why}`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (typeof v !== 'object' || v === null) throw bad('not an object');
  const o = v as Record<string, unknown>;
  if (typeof o['timestampNs'] !== 'string' || !/^[0-9]+$/.test(o['timestampNs'])) throw bad('timestampNs must be a decimal string');
  const rawApps = o['apps'];
  if (typeof rawApps !== 'object' || rawApps === null || Array.isArray(rawApps)) throw bad('apps must be an object');
  const apps: Record<string, AppStats> = {};
  for (const [name, raw] of Object.entries(rawApps)) {
    if (typeof raw !== 'object' || raw === null) throw bad(`apps.${name} must be an object`);
    const r = raw as Record<string, unknown>;
    if (typeof r['running'] !== 'boolean') throw bad(`apps.${name}.running must be a boolean`);
    const a: AppStats = { running: r['running'] };
    for (const k of ['cpuUsageNs', 'memoryUsageBytes', 'workingSetBytes', 'rssBytes'] as const) {
      const x = r[k];
      if (x === undefined) continue;
      if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw bad(`apps.${name}.${k} must be a non-negative integer`);
      a[k] = x;
    }
    apps[name] = a;
  }
  return { timestampNs: o['timestampNs'], apps };
}

// ---------------------------------------------------------------- app/update

/** app/update's argv: `[--debug] --app=<name> [--memory=<bytes>] [--cpu-quota=<percent>] [--cpu-shares=<n>] <uuid>`. */
export interface LimitsUpdateArgs {
  debug: boolean;
  app: string;
  uuid: string;
  memoryMax?: number;
  /** Percent of one CPU (CPUQuota=). */
  cpuQuotaPercent?: number;
  cpuShares?: number;
}

export function buildUpdateArgs(a: LimitsUpdateArgs): string[] {
  return [
    ...(a.debug ? ['--debug'] : []), `--app=${a.app}`,
    ...(a.memoryMax !== undefined ? [`--memory=${a.memoryMax}`] : []),
    ...(a.cpuQuotaPercent !== undefined ? [`--cpu-quota=${a.cpuQuotaPercent}`] : []),
    ...(a.cpuShares !== undefined ? [`--cpu-shares=${a.cpuShares}`] : []),
    a.uuid,
  ];
}

export function parseUpdateArgs(argv: readonly string[]): LimitsUpdateArgs {
  const ep = 'app-update';
  const p = scan(argv, { bools: ['--debug'], values: ['--app', '--memory', '--cpu-quota', '--cpu-shares'], entrypoint: ep });
  const app = p.values.get('--app');
  if (app === undefined || !isACName(app)) throw contractError(ep, `--app: expected an app name, got "${app ?? ''}"`);
  const out: LimitsUpdateArgs = { debug: p.bools.has('--debug'), app, uuid: onePositional(p.positionals, ep) };
  const positive = (flag: string): number | undefined => {
    const v = p.values.get(flag);
    if (v === undefined) return undefined;
    if (!/^[1-9][0-9]*$/.test(v) || !Number.isSafeInteger(Number(v))) throw contractError(ep, `${flag}: expected a positive integer, got "${v}"`);
    return Number(v);
  };
  const memory = positive('--memory');
  const quota = positive('--cpu-quota');
  const shares = positive('--cpu-shares');
  if (memory !== undefined) out.memoryMax = memory;
  if (quota !== undefined) out.cpuQuotaPercent = quota;
  if (shares !== undefined) out.cpuShares = shares;
  return out;
}

// ---------------------------------------------------------------- shared scanning

interface Scanned {
  bools: Set<string>;
  values: Map<string, string>;
  positionals: string[];
}

/**
 * A strict scanner for the entrypoint grammars: `--flag`, `--flag=value`, `--flag value`; `--` ends
 * flags; the first positional also ends flags (the command of enter follows "--" anyway).
 */
function scan(argv: readonly string[], spec: { bools: string[]; values: string[]; entrypoint: Stage1Entrypoint }): Scanned {
  const out: Scanned = { bools: new Set(), values: new Map(), positionals: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('--')) break;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (spec.bools.includes(name)) {
      const v = eq < 0 ? 'true' : a.slice(eq + 1);
      if (v === 'true') out.bools.add(name);
      else if (v !== 'false') throw contractError(spec.entrypoint, `${name}: expected true or false, got "${v}"`);
    } else if (spec.values.includes(name)) {
      if (eq >= 0) out.values.set(name, a.slice(eq + 1));
      else {
        const next = argv[i + 1];
        if (next === undefined) throw contractError(spec.entrypoint, `${name} needs a value`);
        out.values.set(name, next);
        i++;
      }
    } else {
      throw contractError(spec.entrypoint, `unknown flag ${name}`);
    }
  }
  out.positionals = argv.slice(i);
  return out;
}

function onePositional(pos: string[], ep: Stage1Entrypoint): string {
  if (pos.length !== 1 || pos[0] === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(pos[0])) {
    throw contractError(ep, `expected exactly one pod uuid argument, got ${JSON.stringify(pos)}`);
  }
  return pos[0];
}

function contractError(ep: Stage1Entrypoint, msg: string): RktError {
  return new RktError('USAGE', `stage1 ${ep}: ${msg}`);
}
