// The kvm stage1's own record in the pod dir (stage1-flavor.json): what run chose and what gc must undo.
// `rkt status` may show `accel` from it; stop/enter/gc read the socket paths and cgroups from it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode } from '../../common/errors.js';
import { stage1FlavorInfoPath } from '../../common/pod-layout.js';

export interface KvmFlavorRecord {
  flavor: 'kvm';
  /** The accelerator QEMU runs with, and why. */
  accel: 'kvm' | 'tcg';
  accelReason: string;
  vcpus: number;
  memoryMiB: number;
  kernel: string;
  /** Pod-dir-relative paths of QEMU's sockets. */
  qmpSocket: string;
  agentSocket: string;
  /** Cgroup directories made for QEMU (absolute). */
  cgroups: string[];
  /** How QEMU's privileges were dropped. */
  qemuUser: { userns: { shift: number; count: number } } | { uid: number };
  /** Per app: what `enter` needs to confine a command like the app (systemd-run properties). */
  apps: Record<string, EnterProfile>;
}

export type { EnterProfile } from '../../stage1-shared/units/index.js';
import type { EnterProfile } from '../../stage1-shared/units/index.js';

export const KVM_RUN_DIR = 'kvm';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function writeFlavorRecord(podDir: string, rec: KvmFlavorRecord): Promise<void> {
  const file = stage1FlavorInfoPath(podDir);
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o644 });
  await fs.rename(tmp, file);
}

/** The record, or undefined when the run never got as far as writing it. */
export async function readFlavorRecord(podDir: string): Promise<KvmFlavorRecord | undefined> {
  const file = stage1FlavorInfoPath(podDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new RktError('POD_INVALID', `cannot read ${file}: ${String(err)}`, { cause: err });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new RktError('POD_INVALID', `invalid ${file}: not JSON`, { cause: err });
  }
  const str = (k: string): string => {
    if (!isRecord(v) || typeof v[k] !== 'string') throw new RktError('POD_INVALID', `invalid ${file}: "${k}" must be a string`);
    return v[k] as string;
  };
  const num = (k: string): number => {
    if (!isRecord(v) || typeof v[k] !== 'number') throw new RktError('POD_INVALID', `invalid ${file}: "${k}" must be a number`);
    return v[k] as number;
  };
  if (!isRecord(v) || v['flavor'] !== 'kvm') throw new RktError('POD_INVALID', `invalid ${file}: not a kvm stage1 record`);
  const accel = str('accel');
  if (accel !== 'kvm' && accel !== 'tcg') throw new RktError('POD_INVALID', `invalid ${file}: "accel" must be kvm or tcg`);
  const cgroups = v['cgroups'];
  if (!Array.isArray(cgroups) || !cgroups.every((c): c is string => typeof c === 'string' && path.isAbsolute(c))) {
    throw new RktError('POD_INVALID', `invalid ${file}: "cgroups" must be a list of absolute paths`);
  }
  const qu = v['qemuUser'];
  let qemuUser: KvmFlavorRecord['qemuUser'];
  if (isRecord(qu) && isRecord(qu['userns']) && typeof qu['userns']['shift'] === 'number' && typeof qu['userns']['count'] === 'number') {
    qemuUser = { userns: { shift: qu['userns']['shift'], count: qu['userns']['count'] } };
  } else if (isRecord(qu) && typeof qu['uid'] === 'number') {
    qemuUser = { uid: qu['uid'] };
  } else {
    throw new RktError('POD_INVALID', `invalid ${file}: "qemuUser" must be {userns:{shift,count}} or {uid}`);
  }
  const apps: Record<string, EnterProfile> = {};
  const rawApps = v['apps'];
  if (!isRecord(rawApps)) throw new RktError('POD_INVALID', `invalid ${file}: "apps" must be an object`);
  for (const [name, a] of Object.entries(rawApps)) {
    const props = isRecord(a) ? a['properties'] : undefined;
    if (!isRecord(a) || typeof a['path'] !== 'string' || typeof a['workingDirectory'] !== 'string' || !Array.isArray(props)
      || !props.every((p): p is [string, string] => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string')) {
      throw new RktError('POD_INVALID', `invalid ${file}: app "${name}" needs properties, path and workingDirectory`);
    }
    apps[name] = { properties: props, path: a['path'], workingDirectory: a['workingDirectory'] };
  }
  return {
    apps,
    flavor: 'kvm', accel, accelReason: str('accelReason'), vcpus: num('vcpus'), memoryMiB: num('memoryMiB'),
    kernel: str('kernel'), qmpSocket: str('qmpSocket'), agentSocket: str('agentSocket'), cgroups, qemuUser,
  };
}
