// Finding and ending a pod's QEMU from outside: by QMP (`quit`) or by signal, always checking that the
// pid in the pod dir still is this pod's QEMU (pids get reused after a crash or reboot).
import fs from 'node:fs/promises';
import path from 'node:path';
import { pidPath } from '../../common/pod-layout.js';
import { QmpClient } from '../qmp/client.js';
import type { KvmFlavorRecord } from './flavor-record.js';

const MAX_SUN_PATH = 107;

/** The pid of this pod's QEMU if it is alive (its command line names the machine `rkt-<uuid>`). */
export async function livePodQemu(podDir: string, uuid: string): Promise<number | undefined> {
  const text = await fs.readFile(pidPath(podDir), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').some((a) => a.startsWith(`rkt-${uuid},`)) ? pid : undefined;
}

export async function qmpConnect(podDir: string, rec: Pick<KvmFlavorRecord, 'qmpSocket'>, timeoutMs = 3000): Promise<QmpClient> {
  const abs = path.resolve(podDir, rec.qmpSocket);
  return QmpClient.connect(abs.length <= MAX_SUN_PATH ? abs : path.relative(process.cwd(), abs), timeoutMs);
}

/** QMP `quit`; true when QEMU acknowledged and closed the connection. */
export async function quitQemu(podDir: string, rec: Pick<KvmFlavorRecord, 'qmpSocket'>): Promise<boolean> {
  let c: QmpClient;
  try {
    c = await qmpConnect(podDir, rec);
  } catch {
    return false;
  }
  try {
    await c.execute('quit');
    return await c.waitForClose(5000);
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/** SIGKILL this pod's QEMU (if alive) and wait until it is gone; true when it was alive. */
export async function killQemu(podDir: string, uuid: string, waitMs = 5000): Promise<boolean> {
  const pid = await livePodQemu(podDir, uuid);
  if (pid === undefined) return false;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return true;
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && (await livePodQemu(podDir, uuid)) !== undefined) await new Promise((r) => setTimeout(r, 20));
  return true;
}
