// Undoes setupPodNetworks from the pod dir alone: port forwards, CNI DEL per network (reverse order),
// then the netns. Idempotent; works after a crashed stage1 or a killed QEMU.
import { RktError, describeCause } from '../../common/errors.js';
import { delChain } from './cni-chain.js';
import { DEFAULT_CNI_PLUGIN_DIRS } from './cni-exec.js';
import { sweepIpMasq } from './ipmasq-sweep.js';
import { deleteNetns, netnsExists } from './netns.js';
import { removePortForwards } from './port-forward-rules.js';
import { clearPortsRecord, portsWereApplied, readPodRecord } from './records.js';
import { attachmentChain, readAttachments, readNetnsFile, removeAttachment, removeNetState } from './state.js';

/**
 * Removes everything the pod's networking created. Call it from the stage1 gc entrypoint (and after
 * a failed run). A pod that never had networking is a no-op. Continues past individual failures and
 * reports them all at the end, keeping the records of what could not be removed for the next try.
 */
export async function teardownPodNetworks(podDir: string): Promise<void> {
  const rec = await readPodRecord(podDir);
  const nsPath = rec?.netnsPath ?? (await readNetnsFile(podDir));
  if (rec === undefined && nsPath === undefined) return;
  const failures: unknown[] = [];

  if (rec !== undefined && (await portsWereApplied(podDir))) {
    try {
      await removePortForwards(rec.uuid);
      await clearPortsRecord(podDir);
    } catch (err) {
      failures.push(err);
    }
  }

  const attachments = await readAttachments(podDir);
  // Without the netns (a reboot, or someone deleted it) plugins cannot find their masquerade rules.
  const netnsGone = nsPath === undefined || !(await netnsExists(nsPath));
  for (const a of attachments.reverse()) {
    const base = {
      pluginDirs: rec?.pluginDirs ?? DEFAULT_CNI_PLUGIN_DIRS,
      netName: a.netName,
      containerId: rec?.uuid ?? '',
      netnsPath: nsPath ?? '',
      ifName: a.ifName,
      args: a.args,
    };
    try {
      // Every plugin of the chain, in reverse, with the last ADD result (retrying without CNI_ARGS).
      await delChain(attachmentChain(a), base, a.result);
      await removeAttachment(podDir, a);
    } catch (err) {
      // An ADD that never returned a result failed on its own input (plugins validate before they
      // change anything); a DEL that fails the same way has nothing to undo.
      if (a.result === undefined) await removeAttachment(podDir, a);
      else failures.push(err);
    }
  }

  if (netnsGone && rec !== undefined && attachments.length > 0 && failures.length === 0) {
    try {
      await sweepIpMasq(rec.uuid);
    } catch (err) {
      failures.push(err);
    }
  }

  // Delete the namespace only after DEL: plugins find what to undo (addresses, masquerade) inside it.
  if (nsPath !== undefined && failures.length === 0) {
    try {
      await deleteNetns(nsPath);
    } catch (err) {
      failures.push(err);
    }
  }

  if (failures.length > 0) {
    throw new RktError('NETWORK', `network teardown incomplete: ${failures.map(describeCause).join('; ')}`, {
      cause: failures[0],
      hint: 'fix the cause and run rkt gc again; the pod dir keeps the records of what is left',
    });
  }
  await removeNetState(podDir);
}
