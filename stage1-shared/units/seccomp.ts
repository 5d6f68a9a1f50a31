// The seccomp filter of an app, in systemd's SystemCallFilter= vocabulary: a default blacklist, or what
// the app's os/linux/seccomp-retain-set / -remove-set isolators ask for, with appc/rkt/docker/systemd set
// names.
import { findIsolator, type Isolator } from '../../common/appc/index.js';
import { isLinuxErrnoName } from '../../common/appc/isolators-errno.js';
import { RktError } from '../../common/errors.js';

export interface SeccompFilter {
  /** true: only `syscalls` are allowed (retain-set); false: `syscalls` are denied (remove-set). */
  allowList: boolean;
  syscalls: string[];
  /** Errno name for filtered calls; undefined kills the process with SIGSYS (appc's default action). */
  errno?: string;
}

/**
 * Denied by default: what a containerized service has no business calling (clock setting, kernel modules,
 * mounts, reboot, swap, raw I/O, ptrace and perf, keyrings, bpf), close to Docker's default profile.
 */
export const DEFAULT_SECCOMP_DENY: readonly string[] = [
  '@clock', '@cpu-emulation', '@debug', '@module', '@mount', '@obsolete', '@raw-io', '@reboot', '@swap',
  'acct', 'add_key', 'bpf', 'keyctl', 'request_key', 'open_by_handle_at', 'userfaultfd',
];

/** systemd's own allow-list for ordinary services stands in for rkt's and docker's default whitelists. */
const DEFAULT_ALLOW: readonly string[] = ['@system-service'];

/**
 * "Nothing allowed": systemd always admits its @default group into an allow-list (what any process needs to
 * be executed and to exit: execve, exit_group, brk, mmap, getpid, clock_gettime, ...), so this is the
 * smallest filter there is; every other call (write, open, socket, ...) is refused. The appc spec lets an
 * executor keep such a minimal set.
 */
export const DENY_ALL: readonly string[] = ['@default'];

/** Whether the app's filter is DENY_ALL. */
export function isDenyAll(spec: { seccomp?: SeccompFilter }): boolean {
  const f = spec.seccomp;
  return f !== undefined && f.allowList && f.syscalls.length === DENY_ALL.length && DENY_ALL.every((s) => f.syscalls.includes(s));
}

/** systemd's groups (v252) that `@systemd/<group>` (rkt's spelling) and a bare `@<group>` may name. */
const SYSTEMD_GROUPS: ReadonlySet<string> = new Set([
  'aio', 'basic-io', 'chown', 'clock', 'cpu-emulation', 'debug', 'default', 'file-system', 'io-event', 'ipc',
  'keyring', 'known', 'memlock', 'module', 'mount', 'network-io', 'obsolete', 'pkey', 'privileged', 'process',
  'raw-io', 'reboot', 'resources', 'sandbox', 'setuid', 'signal', 'swap', 'sync', 'system-service', 'timer',
]);

const SYSCALL = /^[a-z0-9_]+$/;
const ERRNO = /^E[A-Z0-9]+$/;

const ALL = '@appc.io/all';
const EMPTY = '@appc.io/empty';

function systemdGroup(name: string): string | undefined {
  // rkt called systemd's @default "@systemd/default-whitelist"
  const g = name === 'default-whitelist' ? 'default' : name;
  return SYSTEMD_GROUPS.has(g) ? `@${g}` : undefined;
}

/** The set's names in systemd's vocabulary; the appc wildcards are decided by the caller. */
function expand(app: string, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (n === ALL || n === EMPTY) continue;
    if (n === '@rkt/default-blacklist' || n === '@docker/default-blacklist') out.push(...DEFAULT_SECCOMP_DENY);
    else if (n === '@rkt/default-whitelist' || n === '@docker/default-whitelist') out.push(...DEFAULT_ALLOW);
    else if (SYSCALL.test(n)) out.push(n);
    else {
      const group = n.startsWith('@systemd/') ? systemdGroup(n.slice('@systemd/'.length)) : n.startsWith('@') ? systemdGroup(n.slice(1)) : undefined;
      if (group === undefined) {
        throw new RktError('MANIFEST_INVALID', `invalid seccomp syscall "${n}" for app "${app}": expected a syscall name or a known @set`, {
          hint: 'known sets: @appc.io/all, @appc.io/empty, @rkt/default-blacklist, @rkt/default-whitelist, @docker/default-*, @systemd/<group>',
        });
      }
      out.push(group);
    }
  }
  return [...new Set(out)];
}

function filter(allowList: boolean, syscalls: readonly string[], errno: string | undefined): SeccompFilter {
  const f: SeccompFilter = { allowList, syscalls: [...syscalls] };
  if (errno !== undefined) f.errno = errno;
  return f;
}

/**
 * The app's filter, or undefined for none. The appc wildcards: a retain-set with @appc.io/all, or
 * --insecure-options=seccomp, means no filter; a retain-set of nothing (@appc.io/empty alone) and a
 * remove-set with @appc.io/all mean deny-all (DENY_ALL); a remove-set of nothing (@appc.io/empty alone)
 * means the default filter, as rkt read it.
 */
export function appSeccompFilter(app: string, isolators: readonly Isolator[], disabled: boolean): SeccompFilter | undefined {
  if (disabled) return undefined;
  const retain = findIsolator(isolators, 'os/linux/seccomp-retain-set');
  const remove = findIsolator(isolators, 'os/linux/seccomp-remove-set');
  const chosen = retain ?? remove;
  if (chosen?.errno !== undefined && !(ERRNO.test(chosen.errno) && isLinuxErrnoName(chosen.errno))) {
    throw new RktError('MANIFEST_INVALID', `invalid seccomp errno "${chosen.errno}" for app "${app}": expected a Linux errno name such as EPERM`);
  }
  if (retain) {
    if (retain.set.includes(ALL)) return undefined;
    const syscalls = expand(app, retain.set);
    return filter(true, syscalls.length > 0 ? syscalls : DENY_ALL, retain.errno);
  }
  if (remove) {
    if (remove.set.includes(ALL)) return filter(true, DENY_ALL, remove.errno);
    const syscalls = expand(app, remove.set);
    if (syscalls.length === 0) return filter(false, DEFAULT_SECCOMP_DENY, remove.errno ?? 'EPERM');
    return filter(false, syscalls, remove.errno);
  }
  return filter(false, DEFAULT_SECCOMP_DENY, 'EPERM');
}
