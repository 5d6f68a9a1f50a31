// The seccomp filter of an app, in systemd's SystemCallFilter= vocabulary: a default blacklist, or what
// the app's os/linux/seccomp-retain-set / -remove-set isolators ask for, with appc/rkt/docker set names.
import { findIsolator, type Isolator } from '../appc/index.js';
import { RktError } from '../errors.js';

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

const SYSCALL = /^@?[a-z0-9_]+$/;
const ERRNO = /^E[A-Z0-9]+$/;

function expand(app: string, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (n === '@rkt/default-blacklist' || n === '@docker/default-blacklist') out.push(...DEFAULT_SECCOMP_DENY);
    else if (n === '@rkt/default-whitelist' || n === '@docker/default-whitelist') out.push(...DEFAULT_ALLOW);
    else if (n === '@appc.io/all' || n === '@appc.io/empty') continue;
    else if (SYSCALL.test(n)) out.push(n);
    else throw new RktError('MANIFEST_INVALID', `invalid seccomp syscall "${n}" for app "${app}": expected a syscall name or a known @set`);
  }
  return [...new Set(out)];
}

/** The app's filter, or undefined for none (`--insecure-options=seccomp`, or a retain-set of `@appc.io/all`). */
export function appSeccompFilter(app: string, isolators: readonly Isolator[], disabled: boolean): SeccompFilter | undefined {
  if (disabled) return undefined;
  const retain = findIsolator(isolators, 'os/linux/seccomp-retain-set');
  const remove = findIsolator(isolators, 'os/linux/seccomp-remove-set');
  const chosen = retain ?? remove;
  if (chosen?.errno !== undefined && !ERRNO.test(chosen.errno)) {
    throw new RktError('MANIFEST_INVALID', `invalid seccomp errno "${chosen.errno}" for app "${app}": expected a name such as EPERM`);
  }
  if (retain) {
    if (retain.set.includes('@appc.io/all')) return undefined;
    const f: SeccompFilter = { allowList: true, syscalls: expand(app, retain.set) };
    if (retain.errno !== undefined) f.errno = retain.errno;
    return f;
  }
  if (remove) {
    const syscalls = expand(app, remove.set);
    if (syscalls.length === 0) return undefined;
    const f: SeccompFilter = { allowList: false, syscalls };
    if (remove.errno !== undefined) f.errno = remove.errno;
    return f;
  }
  return { allowList: false, syscalls: [...DEFAULT_SECCOMP_DENY], errno: 'EPERM' };
}
