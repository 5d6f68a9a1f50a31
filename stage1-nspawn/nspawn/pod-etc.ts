// The pod's identity inside the stage1 tree: hostname, machine-id, the persistent journal directory. (The
// resolv.conf/hosts each app gets are stage1-shared/networking's writePodEtc, shared with the kvm stage1.)
import fs from 'node:fs/promises';
import path from 'node:path';
import { replaceFileInRoot } from '../../stage1-shared/units/index.js';

export async function writeIdentity(root: string, hostname: string, machineId: string): Promise<void> {
  await replaceFileInRoot(root, 'etc/hostname', `${hostname}\n`);
  await replaceFileInRoot(root, 'etc/machine-id', `${machineId}\n`);
  // journald keeps the journal persistently when this directory exists (journalctl -D reads it on the host).
  await fs.mkdir(path.join(root, 'var', 'log', 'journal', machineId), { recursive: true });
}
