// Where a pod's journal is on the host: its machine's directory once journald made it, else the journal
// root (journalctl -D reads every machine below it). Shared by `rkt logs` and the CRI endpoint's log copier
// and attach, so they read the same files.
import fs from 'node:fs';
import { journalDir, journalRoot, machineId } from '../../common/pod-layout.js';

/** The directory to give `journalctl -D`, or undefined when the pod has no journal (yet). */
export function podJournalDir(podDir: string, uuid: string): string | undefined {
  const own = journalDir(podDir, machineId(uuid));
  if (fs.existsSync(own)) return own;
  const root = journalRoot(podDir);
  return fs.existsSync(root) ? root : undefined;
}
