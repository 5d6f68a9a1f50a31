// The kvm gc entrypoint: once the pod has exited, nothing of it may remain outside the pod dir: no QEMU
// (one that outlived its supervisor is killed), no cgroup, no socket. Idempotent; works from the record
// alone (the stage1 tree may be unmounted).
import fs from 'node:fs/promises';
import path from 'node:path';
import { removeJournalLink, unregisterMachine } from '../../stage1-shared/machined.js';
import { machineId } from '../../common/pod-layout.js';
import { parseGcArgs } from '../../common/stage1-contract.js';
import { destroyCgroups, qemuCgroupDirs } from '../launch/cgroup.js';
import { KVM_RUN_DIR, readFlavorRecord } from '../launch/flavor-record.js';
import { killQemu } from '../launch/qemu-process.js';
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';

async function gc(argv: string[]): Promise<number> {
  const args = parseGcArgs(argv);
  const podDir = process.cwd();
  const rec = await readFlavorRecord(podDir).catch(() => undefined);
  const killed = await killQemu(podDir, args.uuid);
  if (args.debug && killed) process.stderr.write(`stage1 gc: killed the pod's leftover QEMU\n`);
  // The record names the cgroups; without one (a run that died early) recompute where they would be.
  await destroyCgroups(rec?.cgroups ?? (await qemuCgroupDirs(args.uuid)));
  await fs.rm(path.join(podDir, KVM_RUN_DIR), { recursive: true, force: true });
  // CNI DEL, the netns, leases and port rules (a no-op for a pod run without networks); after QEMU is gone,
  // since it held the taps inside the netns.
  const { teardownPodNetworks } = await import('../../stage1-shared/networking/index.js');
  await teardownPodNetworks(podDir);
  // the journal link kvm-supervise makes where machined runs
  await removeJournalLink(podDir, args.uuid, machineId(args.uuid));
  // a supervisor killed before it unregistered leaves a `register`-mode machine behind in rkt's unit
  if (await unregisterMachine(`rkt-${args.uuid}`) && args.debug) process.stderr.write('stage1 gc: unregistered the machine\n');
  return 0;
}

runEntrypoint('gc', gc);
