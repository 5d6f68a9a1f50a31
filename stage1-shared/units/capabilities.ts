// The capability bounding set of an app: appc's default 14 capabilities, or what the app's
// os/linux/capabilities-retain-set / -remove-set isolators make of it.
import { findIsolator, type Isolator } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { DEFAULT_APP_CAPABILITIES } from '../../common/appc/default-capabilities.js';

export { DEFAULT_APP_CAPABILITIES };

const CAP_NAME = /^CAP_[A-Z_]+$/;

function checkNames(app: string, set: readonly string[]): string[] {
  return set.map((raw) => {
    const c = raw.toUpperCase().startsWith('CAP_') ? raw.toUpperCase() : `CAP_${raw.toUpperCase()}`;
    if (!CAP_NAME.test(c)) {
      throw new RktError('MANIFEST_INVALID', `invalid capability "${raw}" for app "${app}": expected a name such as CAP_NET_ADMIN`);
    }
    return c;
  });
}

/**
 * The app's bounding set, or undefined when unrestricted (`--insecure-options=capabilities`).
 * A retain-set is the bounding set; a remove-set is taken out of the default set.
 */
export function appCapabilities(app: string, isolators: readonly Isolator[], disabled: boolean): string[] | undefined {
  if (disabled) return undefined;
  const retain = findIsolator(isolators, 'os/linux/capabilities-retain-set');
  if (retain) return [...new Set(checkNames(app, retain.set))];
  const remove = findIsolator(isolators, 'os/linux/capabilities-remove-set');
  if (remove) {
    const gone = new Set(checkNames(app, remove.set));
    return DEFAULT_APP_CAPABILITIES.filter((c) => !gone.has(c));
  }
  return [...DEFAULT_APP_CAPABILITIES];
}

/** Linux capability numbers, for comparing a set with /proc/<pid>/status CapBnd (tests, diagnostics). */
export const CAPABILITY_NUMBERS: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6,
  CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9, CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15, CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20, CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28, CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30, CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};

/** The CapBnd mask (as /proc shows it, 16 hex digits) of a set of capability names. */
export function capabilityMask(caps: readonly string[]): string {
  let mask = 0n;
  for (const c of caps) {
    const n = CAPABILITY_NUMBERS[c];
    if (n !== undefined) mask |= 1n << BigInt(n);
  }
  return mask.toString(16).padStart(16, '0');
}
