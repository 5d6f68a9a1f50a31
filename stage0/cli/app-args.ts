// rkt's image/app argument grammar for run, prepare, run-prepared, app sandbox and app add, parsed by hand because
// per-app flags follow their image: `[pod flags] IMAGE [app flags] [-- args ---] IMAGE ...`. Yields a defaulted
// object. Which command takes which flag is the table in pod-flags.ts, which --help is rendered from too.
import { RktError } from '../../common/errors.js';
import { volumeFromString } from '../../common/appc/index.js';
import { parseNetList } from '../../common/networking/net-list.js';
import { APP_STDIN_ANNOTATION, APP_STDIN_ONCE_ANNOTATION } from '../../common/stage1-contract.js';
import { checkPortsAllowed, parsePortFlag, parseSandboxPortFlag } from '../../common/networking/port-forward.js';

export type { AppArg, MountArg, PodArgs, PodCommand, Stage1Flags } from '../pod/pod-args.js';
import type { AppArg, MntVolumeArg, MountArg, PodArgs, PodCommand } from '../pod/pod-args.js';
import { FLAGS } from './pod-flags.js';

function usage(msg: string, hint?: string): RktError {
  return new RktError('USAGE', msg, hint === undefined ? {} : { hint });
}

function parseBool(flag: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw usage(`invalid value for ${flag}: expected true or false, got "${v}"`);
}

function keyValue(flag: string, v: string): { name: string; value: string } {
  const eq = v.indexOf('=');
  if (eq <= 0) throw usage(`invalid value for ${flag}: expected NAME=VALUE, got "${v}"`);
  return { name: v.slice(0, eq), value: v.slice(eq + 1) };
}

function parseMount(v: string): MountArg {
  const out: Partial<MountArg> = {};
  for (const part of v.split(',')) {
    const { name, value } = keyValue('--mount', part);
    if (name === 'volume') out.volume = value;
    else if (name === 'target') out.target = value;
    else throw usage(`invalid --mount "${v}": unknown key "${name}"`, 'expected --mount volume=NAME,target=PATH');
  }
  if (!out.volume || !out.target) throw usage(`invalid --mount "${v}": needs volume= and target=`, 'expected --mount volume=NAME,target=PATH');
  return { volume: out.volume, target: out.target };
}

function parseInteger(flag: string, v: string): number {
  if (!/^-?[0-9]+$/.test(v)) throw usage(`invalid value for ${flag}: expected an integer, got "${v}"`);
  return Number(v);
}

function parseSeccomp(v: string): NonNullable<AppArg['seccomp']> {
  let mode: 'retain' | 'remove' | undefined;
  let errno: string | undefined;
  const set: string[] = [];
  for (const part of v.split(',')) {
    if (part.startsWith('mode=')) {
      const m = part.slice(5);
      if (m !== 'retain' && m !== 'remove') throw usage(`invalid --seccomp "${v}": mode must be retain or remove`);
      mode = m;
    } else if (part.startsWith('errno=')) errno = part.slice(6);
    else if (part !== '') set.push(part);
  }
  if (!mode) throw usage(`invalid --seccomp "${v}": missing mode=retain|remove`);
  if (set.length === 0) throw usage(`invalid --seccomp "${v}": no syscalls given`);
  return errno === undefined ? { mode, set } : { mode, errno, set };
}

const MNT_VOLUME_FORM = 'expected --mnt-volume name=NAME,kind=host,source=/PATH,target=/PATH[,readOnly=true]';

/** rkt 1.30's --mnt-volume: a host volume and its mount in one value (a running pod gains it with the app). */
function parseMntVolume(v: string): MntVolumeArg {
  const fields = new Map<string, string>();
  for (const part of v.split(',')) {
    const { name, value } = keyValue('--mnt-volume', part);
    if (!['name', 'kind', 'source', 'target', 'readOnly'].includes(name)) throw usage(`invalid --mnt-volume "${v}": unknown key "${name}"`, MNT_VOLUME_FORM);
    if (fields.has(name)) throw usage(`invalid --mnt-volume "${v}": "${name}" given twice`, MNT_VOLUME_FORM);
    fields.set(name, value);
  }
  const name = fields.get('name');
  const target = fields.get('target');
  const kind = fields.get('kind') ?? 'host';
  if (name === undefined || target === undefined || fields.get('source') === undefined) throw usage(`invalid --mnt-volume "${v}": needs name=, source= and target=`, MNT_VOLUME_FORM);
  if (kind !== 'host') throw usage(`invalid --mnt-volume "${v}": kind must be host (a running pod gains host volumes only)`, MNT_VOLUME_FORM);
  if (!target.startsWith('/')) throw usage(`invalid --mnt-volume "${v}": target must be an absolute path`, MNT_VOLUME_FORM);
  const rest = [`kind=host`, `source=${fields.get('source') ?? ''}`, ...(fields.has('readOnly') ? [`readOnly=${fields.get('readOnly') ?? ''}`] : [])];
  return { volume: volumeFromString([name, ...rest].join(',')), target };
}

function newApp(image: string): AppArg {
  return { image, environment: [], mounts: [], mntVolumes: [], userAnnotations: {}, userLabels: {}, annotations: {} };
}

function applyAppFlag(app: AppArg, flag: string, v: string): void {
  switch (flag) {
    case '--exec': app.exec = v; break;
    case '--name': app.name = v; break;
    case '--user': app.user = v; break;
    case '--group': app.group = v; break;
    case '--supplementary-gids':
      app.supplementaryGids = v.split(',').map((g) => parseInteger(flag, g.trim()));
      break;
    case '--working-dir': app.workingDir = v; break;
    case '--readonly-rootfs': app.readonlyRootfs = parseBool(flag, v); break;
    case '--environment': app.environment.push(keyValue(flag, v)); break;
    case '--mount': app.mounts.push(parseMount(v)); break;
    case '--mnt-volume': app.mntVolumes.push(parseMntVolume(v)); break;
    case '--memory': app.memory = v; break;
    case '--cpu': app.cpu = v; break;
    case '--cpu-shares': app.cpuShares = parseInteger(flag, v); break;
    case '--caps-retain': app.capsRetain = v.split(',').filter((s) => s !== ''); break;
    case '--caps-remove': app.capsRemove = v.split(',').filter((s) => s !== ''); break;
    case '--seccomp': app.seccomp = parseSeccomp(v); break;
    case '--oom-score-adj': app.oomScoreAdj = parseInteger(flag, v); break;
    case '--signature': app.signature = v; break;
    case '--user-annotation': { const kv = keyValue(flag, v); app.userAnnotations[kv.name] = kv.value; break; }
    case '--user-label': { const kv = keyValue(flag, v); app.userLabels[kv.name] = kv.value; break; }
    case '--annotation': { const kv = keyValue(flag, v); app.annotations[kv.name] = kv.value; break; }
    case '--socket-activated-port': app.socketActivatedPorts = [...(app.socketActivatedPorts ?? []), ...v.split(',').filter((x) => x !== '')]; break;
    case '--stdin':
      if (v !== 'null' && v !== 'stream') throw usage(`invalid --stdin "${v}": expected null or stream`);
      app.annotations[APP_STDIN_ANNOTATION] = v;
      break;
    case '--stdin-once':
      if (parseBool(flag, v)) app.annotations[APP_STDIN_ONCE_ANNOTATION] = 'true';
      else delete app.annotations[APP_STDIN_ONCE_ANNOTATION];
      break;
    default: throw usage(`unknown flag ${flag}`);
  }
}

function emptyPodArgs(command: PodCommand): PodArgs {
  return {
    command, apps: [], podMounts: [], volumes: [], setEnv: [], setEnvFiles: [], inheritEnv: false,
    net: ['default'], netGiven: false, dns: [], dnsSearch: [], dnsOpt: [], hostsEntries: [], ports: [], interactive: false,
    noOverlay: false, privateUsers: false, pullPolicy: 'new', pullPolicyGiven: false, stage1: {}, mdsRegister: false, quiet: false,
    mutable: command === 'app-sandbox', podAnnotations: {}, podUserAnnotations: {}, podUserLabels: {},
  };
}

function applyPodFlag(p: PodArgs, flag: string, v: string): void {
  switch (flag) {
    case '--volume': p.volumes.push(volumeFromString(v)); break;
    case '--set-env': p.setEnv.push(keyValue(flag, v)); break;
    case '--set-env-file': p.setEnvFiles.push(v); break;
    case '--inherit-env': p.inheritEnv = parseBool(flag, v); break;
    case '--no-overlay': p.noOverlay = parseBool(flag, v); break;
    case '--private-users': p.privateUsers = parseBool(flag, v); break;
    case '--pod-manifest': p.podManifest = v; break;
    case '--pull-policy':
      if (v !== 'new' && v !== 'update' && v !== 'never') throw usage(`invalid --pull-policy "${v}": expected new, update or never`);
      p.pullPolicy = v;
      p.pullPolicyGiven = true;
      break;
    case '--store-only': if (parseBool(flag, v)) { p.pullPolicy = 'never'; p.pullPolicyGiven = true; } break;
    case '--no-store': if (parseBool(flag, v)) { p.pullPolicy = 'update'; p.pullPolicyGiven = true; } break;
    case '--stage1-image': p.stage1.image = v; break;
    case '--stage1-name': p.stage1.name = v; break;
    case '--stage1-path': p.stage1.path = v; break;
    case '--stage1-url': p.stage1.url = v; break;
    case '--stage1-hash': p.stage1.hash = v; break;
    case '--stage1-from-dir': p.stage1.fromDir = v; break;
    case '--uuid-file-save': p.uuidFileSave = v; break;
    case '--port': p.ports.push(p.command === 'app-sandbox' ? parseSandboxPortFlag(v) : parsePortFlag(v)); break;
    case '--quiet': p.quiet = parseBool(flag, v); break;
    case '--net':
      p.net = p.netGiven ? [...p.net, ...v.split(',')] : v.split(',');
      p.netGiven = true;
      break;
    case '--dns': p.dns.push(v); break;
    case '--dns-search': p.dnsSearch.push(v); break;
    case '--dns-opt': p.dnsOpt.push(v); break;
    case '--dns-domain': p.dnsDomain = v; break;
    case '--hosts-entry': p.hostsEntries.push(v); break;
    case '--hostname': p.hostname = v; break;
    case '--interactive': p.interactive = parseBool(flag, v); break;
    case '--mds-register': p.mdsRegister = parseBool(flag, v); break;
    default: throw usage(`unknown flag ${flag}`);
  }
}

/** The command as typed: "app sandbox" for app-sandbox. */
function spoken(c: PodCommand): string {
  return c.startsWith('app-') ? `app ${c.slice(4)}` : c;
}

function applySandboxFlag(p: PodArgs, flag: string, v: string): void {
  const kv = keyValue(flag, v);
  if (flag === '--annotation') p.podAnnotations[kv.name] = kv.value;
  else if (flag === '--user-annotation') p.podUserAnnotations[kv.name] = kv.value;
  else if (flag === '--user-label') p.podUserLabels[kv.name] = kv.value;
  else throw usage(`flag ${flag} is not valid for rkt app sandbox`, 'per-app flags go to rkt app add');
}

/** Parses the words after `rkt <command>`. */
export function parsePodArgs(command: PodCommand, argv: readonly string[]): PodArgs {
  const p = emptyPodArgs(command);
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const last = p.apps[p.apps.length - 1];
    if (a === '--') {
      if (command !== 'run' && command !== 'prepare' && command !== 'app-add') throw usage('"--" app arguments are only valid after an image');
      if (!last) throw usage('"--" must follow an image');
      if (last.args !== undefined) throw usage(`only one "--" argument block is allowed per image (${last.image})`);
      const args: string[] = [];
      for (i++; i < argv.length && argv[i] !== '---'; i++) args.push(argv[i] ?? '');
      last.args = args;
      continue;
    }
    if (a === '---') throw usage('"---" without a preceding "--"');
    if (!a.startsWith('-') || a === '-') {
      if (command === 'run-prepared' || command === 'app-sandbox' || (command === 'app-add' && positionals.length === 0)) positionals.push(a);
      else p.apps.push(newApp(a));
      continue;
    }
    const eq = a.indexOf('=');
    const flag = eq < 0 ? a : a.slice(0, eq);
    const spec = FLAGS[flag];
    if (!spec) throw usage(`unknown flag ${flag}`, `see "rkt ${spoken(command)} --help"`);
    if (!spec.cmds.includes(command)) throw usage(`flag ${flag} is not valid for rkt ${spoken(command)}`, `see "rkt ${spoken(command)} --help"`);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (spec.kind === 'bool') value = 'true';
    else if (spec.kind === 'optional') value = 'default';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw usage(`flag ${flag} needs a value`);
      value = next;
      i++;
    }
    if (spec.app && flag === '--mount' && !last) p.podMounts.push(parseMount(value));
    else if (spec.app && command === 'app-sandbox') applySandboxFlag(p, flag, value);
    else if (spec.app) {
      if (!last) throw usage(`${flag} must follow an image`, `put per-app flags after the image they apply to`);
      applyAppFlag(last, flag, value);
    } else applyPodFlag(p, flag, value);
  }
  if (command === 'run-prepared') {
    if (positionals.length !== 1) throw usage('rkt run-prepared takes exactly one pod uuid');
    p.uuid = positionals[0];
  }
  if (command === 'app-sandbox' && positionals.length > 0) {
    throw usage(`rkt app sandbox takes no images (got "${positionals[0] ?? ''}")`, 'start the sandbox, then add apps with: rkt app add UUID IMAGE');
  }
  if (command === 'app-add') {
    if (positionals.length !== 1) throw usage('rkt app add needs a pod uuid and one image', 'usage: rkt app add UUID IMAGE [app flags] [-- args ---]');
    if (p.apps.length !== 1) throw usage(p.apps.length === 0 ? 'rkt app add needs an image after the pod uuid' : 'rkt app add takes one image', 'usage: rkt app add UUID IMAGE [app flags] [-- args ---]');
    p.uuid = positionals[0];
  }
  validate(p);
  return p;
}

function validate(p: PodArgs): void {
  if (p.podManifest !== undefined) {
    const conflicts: string[] = [];
    if (p.apps.length > 0) conflicts.push('images');
    if (p.volumes.length > 0) conflicts.push('--volume');
    if (p.podMounts.length > 0) conflicts.push('--mount');
    if (p.setEnv.length > 0 || p.setEnvFiles.length > 0 || p.inheritEnv) conflicts.push('--set-env/--set-env-file/--inherit-env');
    if (p.pullPolicyGiven) conflicts.push('--pull-policy');
    if (p.ports.length > 0) conflicts.push('--port');
    if (conflicts.length > 0) {
      throw usage(`--pod-manifest conflicts with ${conflicts.join(', ')}`, 'a pod manifest already names the images, volumes and environment');
    }
  } else if ((p.command === 'run' || p.command === 'prepare') && p.apps.length === 0) {
    throw usage('at least one image is required', `usage: rkt ${p.command} [flags] IMAGE [app flags] [-- args ---] ...`);
  }
  if (p.interactive && p.command !== 'run-prepared' && p.apps.length > 1) throw usage('--interactive is only supported with one image');
  if (p.interactive && p.command === 'app-sandbox') throw usage('--interactive needs an app: a sandbox starts with none');
  for (const a of p.apps) {
    const stream = a.annotations[APP_STDIN_ANNOTATION] === 'stream';
    if (a.annotations[APP_STDIN_ONCE_ANNOTATION] === 'true' && !stream) throw usage(`${a.image}: --stdin-once needs --stdin=stream`);
    if (stream && p.interactive) throw usage(`${a.image}: --stdin=stream and --interactive both want the app's stdin: choose one`);
  }
  for (const n of p.net) {
    if (n === '') throw usage('invalid --net: empty network name');
  }
  if (p.net.includes('host') && p.net.length > 1) throw usage('invalid --net: "host" cannot be combined with other networks');
  if (p.net.includes('none') && p.net.length > 1) throw usage('invalid --net: "none" cannot be combined with other networks');
  if (p.command === 'run') checkPortsAllowed(parseNetList(p.net), p.ports);
  const s1 = Object.keys(p.stage1);
  if (s1.length > 1) throw usage(`only one stage1 selector may be given, got ${s1.map((k) => `--stage1-${k === 'fromDir' ? 'from-dir' : k}`).join(', ')}`);
}
