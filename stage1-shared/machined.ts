// systemd-machined, as both stage1s see it: is it reachable, how a pod registers (a scope of its own, or
// the unit rkt already runs in), and what gc undoes: a machine whose stage1 died without unregistering it,
// and the host's journal link into the pod.
// No D-Bus client library: stage1 images carry no node_modules, and busctl ships with systemd.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { capture } from './subprocess.js';

/**
 * machined is reachable when the host runs systemd as PID 1 with a system bus and machined is installed
 * (it is bus-activated). Checked from the files each of those leaves, without talking to the bus.
 */
export function machinedReachable(): boolean {
  if (!fs.existsSync('/run/systemd/system')) return false;
  if (!fs.existsSync('/run/dbus/system_bus_socket')) return false;
  return ['/usr/lib/systemd/systemd-machined', '/lib/systemd/systemd-machined'].some((p) => fs.existsSync(p));
}

/** rkt started by systemd (a service or `systemd-run`): the pod must stay in that unit (nspawn's --keep-unit). */
export function insideSystemdUnit(): boolean {
  return process.env['INVOCATION_ID'] !== undefined && fs.existsSync('/run/systemd/system');
}

/**
 * How a pod joins machined: `create` = CreateMachine, machined makes `machine-<name>.scope` and moves the
 * leader into it; `register` = RegisterMachine, the machine belongs to the unit rkt runs in (so
 * `systemd-run rkt run` keeps one unit for the whole pod); `none` = no machined on this host.
 */
export type MachineRegistration = 'create' | 'register' | 'none';

export function machineRegistration(): MachineRegistration {
  if (!machinedReachable()) return 'none';
  return insideSystemdUnit() ? 'register' : 'create';
}

/**
 * Drops a machine a dead stage1 left registered (a `register`-mode machine lives as long as rkt's unit,
 * not as long as its leader). Best effort: false when machined does not know it or cannot be reached.
 */
export async function unregisterMachine(name: string): Promise<boolean> {
  if (!machinedReachable()) return false;
  const r = await capture('busctl', ['--timeout=5', 'call', 'org.freedesktop.machine1', '/org/freedesktop/machine1',
    'org.freedesktop.machine1.Manager', 'UnregisterMachine', 's', name], { timeoutMs: 10_000 });
  return r.exitCode === 0;
}

/**
 * Removes the host's /var/log/journal/<machine-id> link (`journalctl -m`'s way into a pod's journal) when it
 * points into this pod's tree. The pod dir may have moved (run/ -> garbage/) since the link was made, so
 * the pod's own journal path below its uuid also counts.
 */
export async function removeJournalLink(podDir: string, uuid: string, machineId: string): Promise<void> {
  const link = path.join('/var/log/journal', machineId);
  const target = await fsp.readlink(link).catch(() => undefined);
  if (target === undefined) return;
  const resolvedPod = await fsp.realpath(podDir).catch(() => podDir);
  if (target.startsWith(`${podDir}/`) || target.startsWith(`${resolvedPod}/`) || target.includes(`/${uuid}/stage1/rootfs/var/log/journal/`)) {
    await fsp.rm(link, { force: true });
  }
}
