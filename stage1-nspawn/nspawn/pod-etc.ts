// The pod's identity inside the stage1 tree: hostname, machine-id, the persistent journal directory. (The
// resolv.conf/hosts each app gets are common/networking's writePodEtc, shared with the kvm stage1.)
import fs from 'node:fs/promises';
import path from 'node:path';
import { readFileInRoot } from '../../common/units/index.js';

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

/** Images that ship their own /etc/hosts keep it in `default` mode. */
export async function imageHasHosts(appRootfs: string): Promise<boolean> {
  return (await readFileInRoot(appRootfs, '/etc/hosts')) !== undefined;
}
