// The pod's identity and name resolution files inside the stage1 tree: hostname, machine-id, the
// persistent journal directory, and the resolv.conf/hosts each app gets (per --dns-conf-mode).
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../common/errors.js';
import { readFileInRoot } from '../../common/units/index.js';
import type { DnsConfMode } from '../../common/stage1-contract.js';

export interface EtcBind {
  /** Path inside the pod root. */
  source: string;
  /** Path inside the app. */
  target: string;
}

async function writeFile(root: string, rel: string, content: string): Promise<void> {
  const dest = path.join(root, rel);
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.rm(dest, { force: true }); // may be a symlink in the image (e.g. resolv.conf)
  await fs.writeFile(dest, content, { mode: 0o644 });
}

export async function writeIdentity(root: string, hostname: string, machineId: string): Promise<void> {
  await writeFile(root, 'etc/hostname', `${hostname}\n`);
  await writeFile(root, 'etc/machine-id', `${machineId}\n`);
  // journald keeps the journal persistently when this directory exists (journalctl -D reads it on the host).
  await fs.mkdir(path.join(root, 'var', 'log', 'journal', machineId), { recursive: true });
}

async function hostFile(p: string): Promise<string | undefined> {
  try {
    return await fs.readFile(p, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Decides each app's /etc/resolv.conf and /etc/hosts. `stage0` files were written by rkt already;
 * `host` copies the host's file (a bind would pin a symlink target that may change); `default` gives the
 * CNI's DNS (or the host's resolv.conf on host networking) and a localhost hosts file to images without one.
 */
export async function prepareDns(opts: {
  root: string;
  mode: DnsConfMode;
  hostNetwork: boolean;
  hostname: string;
  /** resolv.conf made from the DNS the CNI plugins returned, used in `default` mode. */
  cniResolvConf?: string;
}): Promise<{ binds: EtcBind[]; hostsFallback?: EtcBind }> {
  const binds: EtcBind[] = [{ source: '/etc/hostname', target: '/etc/hostname' }];
  const { root, mode } = opts;
  if (mode.resolv === 'stage0') binds.push({ source: '/etc/rkt-resolv.conf', target: '/etc/resolv.conf' });
  else if (mode.resolv === 'default' && opts.cniResolvConf !== undefined) {
    await writeFile(root, 'etc/rkt-resolv.conf', opts.cniResolvConf);
    binds.push({ source: '/etc/rkt-resolv.conf', target: '/etc/resolv.conf' });
  } else if (mode.resolv === 'host' || (mode.resolv === 'default' && opts.hostNetwork)) {
    const text = await hostFile('/etc/resolv.conf');
    if (text !== undefined) {
      await writeFile(root, 'etc/rkt-resolv.conf', text);
      binds.push({ source: '/etc/rkt-resolv.conf', target: '/etc/resolv.conf' });
    }
  }
  if (mode.hosts === 'stage0') binds.push({ source: '/etc/rkt-hosts', target: '/etc/hosts' });
  else if (mode.hosts === 'host') {
    await writeFile(root, 'etc/rkt-hosts', (await hostFile('/etc/hosts')) ?? '127.0.0.1 localhost\n');
    binds.push({ source: '/etc/rkt-hosts', target: '/etc/hosts' });
  } else {
    await writeFile(root, 'etc/rkt-hosts-fallback', `127.0.0.1 localhost ${opts.hostname}\n::1 localhost ip6-localhost ip6-loopback\n`);
    return { binds, hostsFallback: { source: '/etc/rkt-hosts-fallback', target: '/etc/hosts' } };
  }
  return { binds };
}

/** Images that ship their own /etc/hosts keep it in `default` mode. */
export async function imageHasHosts(appRootfs: string): Promise<boolean> {
  return (await readFileInRoot(appRootfs, '/etc/hosts')) !== undefined;
}
