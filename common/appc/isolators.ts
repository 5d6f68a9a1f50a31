// appc isolators: the known names, a typed and validated value for each, the per-app multiplicity and
// conflict rules, and constructors for the CLI flags (--memory, --cpu, --caps-retain, --seccomp, ...).

import { isLinuxErrnoName } from './isolators-errno.js';
import { checkACIdentifier } from './names.js';
import { tryParseQuantity } from './quantity.js';
import {
  type JsonObject, asArray, asBoolean, asInteger, asObject, asString, asStringMap, fail, field, join, quote,
  requiredString,
} from './reader.js';

/** An isolator as it appears in a manifest; use isIsolator()/findIsolator() to read a typed value. */
export interface Isolator {
  name: string;
  value: unknown;
}

/** resource/cpu (cores) and resource/memory (bytes); quantities are kept as text, see parseResourceQuantity. */
export interface ResourceLimits {
  request?: string;
  limit?: string;
}

/** resource/block-bandwidth, block-iops, network-bandwidth: a default limit for every device. */
export interface ResourceDefaultLimit {
  default: true;
  limit?: string;
}

export interface CapabilitySet {
  set: string[];
}

export interface SeccompSet {
  set: string[];
  /** Errno name such as "EPERM" returned for filtered syscalls; unset means the process is killed (SIGSYS). */
  errno?: string;
}

export interface SelinuxContext {
  user: string;
  role: string;
  type: string;
  level: string;
}

export interface IsolatorValues {
  'resource/cpu': ResourceLimits;
  'resource/memory': ResourceLimits;
  'resource/block-bandwidth': ResourceDefaultLimit;
  'resource/block-iops': ResourceDefaultLimit;
  'resource/network-bandwidth': ResourceDefaultLimit;
  'os/linux/capabilities-retain-set': CapabilitySet;
  'os/linux/capabilities-remove-set': CapabilitySet;
  'os/linux/no-new-privileges': boolean;
  'os/linux/seccomp-retain-set': SeccompSet;
  'os/linux/seccomp-remove-set': SeccompSet;
  'os/linux/oom-score-adj': number;
  'os/linux/cpu-shares': number;
  'os/linux/selinux-context': SelinuxContext;
  'os/linux/apparmor-profile': { profile: string };
  'os/unix/sysctl': Record<string, string>;
}

export type IsolatorName = keyof IsolatorValues;
export type TypedIsolator<K extends IsolatorName> = { name: K; value: IsolatorValues[K] };

export interface IsolatorSpec<T> {
  parse(v: unknown, path: string): T;
  /** Whether one app may carry several isolators of this name (the last one wins). */
  multiple: boolean;
  conflicts?: IsolatorName;
}

function quantityField(obj: JsonObject, key: string, path: string): string | undefined {
  let v = field(obj, key);
  if (v === undefined) return undefined;
  const at = join(path, key);
  if (typeof v === 'number' && Number.isFinite(v)) v = String(v);
  const text = asString(v, at);
  const q = tryParseQuantity(text);
  if (typeof q === 'string') fail(at, q, text);
  if (q.milli < 0) fail(at, 'must not be negative', text);
  return text;
}

function resourceLimits(v: unknown, path: string): ResourceLimits {
  const obj = asObject(v, path);
  const def = field(obj, 'default');
  if (def !== undefined && asBoolean(def, join(path, 'default'))) fail(join(path, 'default'), 'must be false');
  const out: ResourceLimits = {};
  const request = quantityField(obj, 'request', path);
  const limit = quantityField(obj, 'limit', path);
  if (request !== undefined) out.request = request;
  if (limit !== undefined) out.limit = limit;
  return out;
}

function resourceDefaultLimit(v: unknown, path: string): ResourceDefaultLimit {
  const obj = asObject(v, path);
  const def = field(obj, 'default');
  if (def === undefined || !asBoolean(def, join(path, 'default'))) fail(join(path, 'default'), 'must be true');
  if (field(obj, 'request') !== undefined) fail(join(path, 'request'), 'is not supported by this resource');
  const limit = quantityField(obj, 'limit', path);
  return limit === undefined ? { default: true } : { default: true, limit };
}

const CAPABILITY = /^CAP_[A-Z0-9_]+$/;
const SYSCALL = /^([a-z0-9_]+|@[a-z0-9][a-z0-9._/-]*)$/;
const ERRNO = /^E[A-Z0-9]*$/;

function nonEmptySet(obj: JsonObject, path: string, item: RegExp, rule: string): string[] {
  const at = join(path, 'set');
  const raw = field(obj, 'set');
  if (raw === undefined) fail(at, 'is required');
  const set = asArray(raw, at).map((s, i) => asString(s, join(at, i)));
  if (set.length === 0) fail(at, 'must not be empty');
  set.forEach((s, i) => {
    if (!item.test(s)) fail(join(at, i), rule, s);
  });
  return set;
}

function capabilitySet(v: unknown, path: string): CapabilitySet {
  return { set: nonEmptySet(asObject(v, path), path, CAPABILITY, 'must be a capability name such as CAP_NET_ADMIN') };
}

function seccompSet(v: unknown, path: string): SeccompSet {
  const obj = asObject(v, path);
  const set = nonEmptySet(obj, path, SYSCALL, 'must be a syscall name or an @group such as @appc.io/all');
  const errnoRaw = field(obj, 'errno');
  const errno = errnoRaw === undefined ? '' : asString(errnoRaw, join(path, 'errno'));
  if (errno === '') return { set };
  if (!ERRNO.test(errno)) fail(join(path, 'errno'), 'must be an errno name such as EPERM', errno);
  if (!isLinuxErrnoName(errno)) fail(join(path, 'errno'), 'must be a Linux errno name such as EPERM (see errno(3))', errno);
  return { set, errno };
}

function selinuxContext(v: unknown, path: string): SelinuxContext {
  const obj = asObject(v, path);
  const part = (key: string, colonAllowed: boolean): string => {
    const s = requiredString(obj, key, path);
    if (!colonAllowed && s.includes(':')) fail(join(path, key), 'must not contain ":"', s);
    return s;
  };
  return { user: part('user', false), role: part('role', false), type: part('type', false), level: part('level', true) };
}

const SYSCTL_KEY = /^[a-zA-Z0-9_]+([./][a-zA-Z0-9_-]+)*$/;

function sysctl(v: unknown, path: string): Record<string, string> {
  const map = asStringMap(v, path);
  for (const [k, val] of Object.entries(map)) {
    if (!SYSCTL_KEY.test(k)) fail(join(path, k), 'must be a sysctl key such as net.ipv4.tcp_fin_timeout');
    if (/[\n\r\0]/.test(val)) fail(join(path, k), 'must not contain line breaks or NUL');
  }
  return map;
}

export const SPECS: { [K in IsolatorName]: IsolatorSpec<IsolatorValues[K]> } = {
  'resource/cpu': { parse: resourceLimits, multiple: true },
  'resource/memory': { parse: resourceLimits, multiple: true },
  'resource/block-bandwidth': { parse: resourceDefaultLimit, multiple: true },
  'resource/block-iops': { parse: resourceDefaultLimit, multiple: true },
  'resource/network-bandwidth': { parse: resourceDefaultLimit, multiple: true },
  'os/linux/capabilities-retain-set': { parse: capabilitySet, multiple: true },
  'os/linux/capabilities-remove-set': { parse: capabilitySet, multiple: true },
  'os/linux/no-new-privileges': { parse: (v, p) => asBoolean(v, p), multiple: true },
  'os/linux/seccomp-retain-set': { parse: seccompSet, multiple: false, conflicts: 'os/linux/seccomp-remove-set' },
  'os/linux/seccomp-remove-set': { parse: seccompSet, multiple: false, conflicts: 'os/linux/seccomp-retain-set' },
  'os/linux/oom-score-adj': { parse: (v, p) => asInteger(v, p, -1000, 1000), multiple: false },
  'os/linux/cpu-shares': { parse: (v, p) => asInteger(v, p, 2, 262144), multiple: false },
  'os/linux/selinux-context': { parse: selinuxContext, multiple: false },
  'os/linux/apparmor-profile': {
    parse: (v, p) => ({ profile: requiredString(asObject(v, p), 'profile', p) }),
    multiple: false,
  },
  'os/unix/sysctl': { parse: sysctl, multiple: false },
};

export const KNOWN_ISOLATORS: readonly IsolatorName[] = Object.keys(SPECS) as IsolatorName[];

export function isKnownIsolatorName(name: string): name is IsolatorName {
  return Object.hasOwn(SPECS, name);
}

function parseIsolator(v: unknown, path: string, strict: boolean): Isolator {
  const obj = asObject(v, path);
  const name = checkACIdentifier(requiredString(obj, 'name', path), join(path, 'name'));
  const raw = field(obj, 'value');
  if (!isKnownIsolatorName(name)) {
    if (strict) fail(join(path, 'name'), `unknown isolator (known: ${KNOWN_ISOLATORS.join(', ')})`, name);
    return { name, value: raw ?? null };
  }
  if (raw === undefined) fail(join(path, 'value'), 'is required');
  const spec = SPECS[name] as IsolatorSpec<unknown>;
  return { name, value: spec.parse(raw, join(path, 'value')) };
}

/**
 * App isolators (image manifest or pod app): every name must be known, as in appc's reference, and
 * the multiplicity/conflict rules apply. Pod-level isolators (strict=false) keep unknown names as-is
 * and still validate the known ones.
 */
export function parseIsolators(v: unknown, path: string, strict: boolean): Isolator[] {
  if (v === undefined) return [];
  const list = asArray(v, path).map((item, i) => parseIsolator(item, join(path, i), strict));
  if (!strict) return list;
  const seen = new Set<string>();
  list.forEach((iso, i) => {
    const spec = SPECS[iso.name as IsolatorName];
    if (seen.has(iso.name) && !spec.multiple) fail(join(path, i), `only one ${quote(iso.name)} isolator is allowed`);
    if (spec.conflicts !== undefined && seen.has(spec.conflicts)) {
      fail(join(path, i), `${quote(iso.name)} cannot be combined with ${quote(spec.conflicts)}`);
    }
    seen.add(iso.name);
  });
  return list;
}

/** Narrow an isolator to the typed value of a known kind. */
export function isIsolator<K extends IsolatorName>(iso: Isolator, name: K): iso is TypedIsolator<K> {
  return iso.name === name;
}

/** The value of the last isolator called `name` (the one that takes effect), if any. */
export function findIsolator<K extends IsolatorName>(list: readonly Isolator[], name: K): IsolatorValues[K] | undefined {
  for (let i = list.length - 1; i >= 0; i--) {
    const iso = list[i];
    if (iso !== undefined && isIsolator(iso, name)) return iso.value;
  }
  return undefined;
}
