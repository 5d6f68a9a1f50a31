// stage1-flavor.json: what this stage1 did to the host for a pod, so stop/gc/enter can act on it later
// (also after the overlays are unmounted). Only this stage1 reads it.
import fs from 'node:fs/promises';
import { stage1FlavorInfoPath } from '../../common/pod-layout.js';
import { RktError, errnoCode } from '../../common/errors.js';

export interface NspawnFlavorInfo {
  flavor: 'nspawn';
  machine: string;
  machineId: string;
  /** Registered with machined (then the host has a journal link to remove at gc). */
  registered: boolean;
  privateUsers?: { shift: number; count: number; ownership: UserNsOwnership };
  /** The pod's own cgroup directories (absolute), when it is not registered with machined. */
  cgroups: string[];
  /** Per app: the sandbox properties of its unit and its PATH, so enter confines exactly like the app. */
  apps: Record<string, EnterProfile>;
}

/** map / chown: nspawn's --private-users-ownership; overlay-idmap: ID-mapped lower layers, nspawn "off". */
export type UserNsOwnership = 'map' | 'chown' | 'overlay-idmap';

export type { EnterProfile } from '../../stage1-shared/units/index.js';
import type { EnterProfile } from '../../stage1-shared/units/index.js';

function parseApps(v: unknown): Record<string, EnterProfile> {
  const out: Record<string, EnterProfile> = {};
  if (typeof v !== 'object' || v === null) return out;
  for (const [name, raw] of Object.entries(v as Record<string, unknown>)) {
    if (typeof raw !== 'object' || raw === null) continue;
    const r = raw as Record<string, unknown>;
    const props = Array.isArray(r['properties'])
      ? r['properties'].filter((p): p is [string, string] => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string')
      : [];
    if (typeof r['workingDirectory'] !== 'string' || typeof r['path'] !== 'string') continue;
    out[name] = { properties: props, workingDirectory: r['workingDirectory'], path: r['path'] };
  }
  return out;
}

export async function writeFlavorInfo(podDir: string, info: NspawnFlavorInfo): Promise<void> {
  const p = stage1FlavorInfoPath(podDir);
  await fs.writeFile(`${p}.tmp`, JSON.stringify(info, null, 2) + '\n');
  await fs.rename(`${p}.tmp`, p);
}

export async function readFlavorInfo(podDir: string): Promise<NspawnFlavorInfo | undefined> {
  let text: string;
  try {
    text = await fs.readFile(stage1FlavorInfoPath(podDir), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null) throw new RktError('POD_INVALID', 'invalid stage1-flavor.json: not an object');
  const o = v as Record<string, unknown>;
  if (o['flavor'] !== 'nspawn' || typeof o['machine'] !== 'string' || typeof o['machineId'] !== 'string') {
    throw new RktError('POD_INVALID', 'invalid stage1-flavor.json: expected flavor "nspawn", machine and machineId');
  }
  const info: NspawnFlavorInfo = { flavor: 'nspawn', machine: o['machine'], machineId: o['machineId'], registered: o['registered'] === true,
    apps: parseApps(o['apps']),
    cgroups: Array.isArray(o['cgroups']) ? o['cgroups'].filter((c): c is string => typeof c === 'string' && c.startsWith('/sys/fs/cgroup/')) : [],
  };
  const pu = o['privateUsers'];
  if (typeof pu === 'object' && pu !== null) {
    const r = pu as Record<string, unknown>;
    if (typeof r['shift'] === 'number' && typeof r['count'] === 'number' && (r['ownership'] === 'map' || r['ownership'] === 'chown' || r['ownership'] === 'overlay-idmap')) {
      info.privateUsers = { shift: r['shift'], count: r['count'], ownership: r['ownership'] };
    }
  }
  return info;
}
