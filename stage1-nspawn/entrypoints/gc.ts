// The gc entrypoint: releases what a pod left outside its directory. Idempotent, and works when the
// overlays are unmounted: stray processes in the pod tree, the pod's cgroup, the host's journal link.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { removeJournalLink } from '../../stage1-shared/machined.js';
import { machineId } from '../../common/pod-layout.js';
import { parseGcArgs } from '../../common/stage1-contract.js';
import { removeCgroupTree } from '../nspawn/cgroup.js';
import { readStage1Record } from '../../stage1-shared/record/stage1-record.js';
import { nspawnRecord } from '../flavor/traits.js';
import { processesRootedIn, signal, waitGone } from '../nspawn/procs.js';
import { debugLog, runEntrypoint } from '../../stage1-shared/entrypoint.js';

async function gc(argv: string[]): Promise<number> {
  const args = parseGcArgs(argv);
  const podDir = await fsp.realpath(process.cwd());
  // Processes that still see the pod tree as their root; a pod's own processes live in another mount
  // namespace (their root reads as "/"), so the cgroup removal below is what ends those.
  const stray = await processesRootedIn(podDir);
  for (const pid of stray) signal(pid, 'SIGKILL');
  for (const pid of stray) await waitGone(pid, 2000);
  if (stray.length > 0) debugLog(args.debug, `killed ${stray.length} process(es) left in the pod tree`);
  // A damaged record must not stop the cleanup that does not need it.
  const rec = await readStage1Record(podDir, nspawnRecord).catch((err: unknown) => {
    debugLog(args.debug, `ignoring the pod's record: ${String(err)}`);
    return undefined;
  });
  const info = rec?.flavorState;
  for (const dir of info?.cgroups ?? []) if (path.basename(dir) === `rkt-${args.uuid}`) await removeCgroupTree(dir);
  await removeJournalLink(podDir, args.uuid, info?.machineId ?? machineId(args.uuid));
  // Only pods that had networking recorded it in net/ or netns; others never load the CNI code.
  if (fs.existsSync(path.join(podDir, 'net')) || fs.existsSync(path.join(podDir, 'netns'))) {
    const { teardownPodNetworks } = await import('../../stage1-shared/networking/index.js');
    await teardownPodNetworks(podDir);
  }
  return 0;
}

runEntrypoint('gc', gc);
