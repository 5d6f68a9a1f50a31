// The systemd-nspawn command line for a pod (pure: every input is explicit, so it is unit-tested).
export interface NspawnBind {
  /** Host path. */
  source: string;
  /** Path inside the pod. */
  target: string;
  readOnly: boolean;
  recursive: boolean;
}

export interface NspawnOptions {
  rootfs: string;
  machine: string;
  /** 32 hex digits: the pod's machine-id. */
  machineId: string;
  register: boolean;
  keepUnit: boolean;
  /** The pod's network namespace (CNI, --net=none); undefined shares the host's network. */
  netnsPath: string | undefined;
  privateUsers?: { shift: number; count: number; ownership: 'map' | 'chown' | 'overlay-idmap' };
  binds: NspawnBind[];
  interactive: boolean;
  allCapabilities: boolean;
  debug: boolean;
}

export function nspawnArgv(o: NspawnOptions): string[] {
  const a = ['--boot', `--machine=${o.machine}`, `--uuid=${o.machineId}`, `--directory=${o.rootfs}`];
  if (o.register) a.push('--register=yes', '--link-journal=try-guest');
  else a.push('--register=no', '--link-journal=no');
  if (o.keepUnit || !o.register) a.push('--keep-unit');
  if (!o.debug) a.push('--quiet');
  if (o.netnsPath !== undefined) a.push(`--network-namespace-path=${o.netnsPath}`);
  if (o.privateUsers) {
    a.push(`--private-users=${o.privateUsers.shift}:${o.privateUsers.count}`);
    // overlay-idmap: the trees already appear in the range (ID-mapped lower layers); nspawn must not touch them
    a.push(`--private-users-ownership=${o.privateUsers.ownership === 'overlay-idmap' ? 'off' : o.privateUsers.ownership}`);
  }
  if (o.allCapabilities) a.push('--capability=all');
  a.push(`--console=${o.interactive ? 'interactive' : 'read-only'}`);
  for (const b of o.binds) {
    a.push(`${b.readOnly ? '--bind-ro' : '--bind'}=${escapeBindPath(b.source)}:${escapeBindPath(b.target)}:${b.recursive ? 'rbind' : 'norbind'}`);
  }
  // Arguments for the pod's systemd: quiet boot unless --debug; its errors still reach the console.
  a.push('--');
  if (o.debug) a.push('--show-status=yes', '--log-level=info');
  else a.push('--show-status=no', '--log-level=err');
  return a;
}

/** nspawn splits --bind on ":" and understands backslash escapes. */
function escapeBindPath(p: string): string {
  return p.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}
