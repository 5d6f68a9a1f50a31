// Finding the endpoint's sandboxes and containers: pods whose manifest carries a sandbox record, apps that
// carry a container record. Read from the pod directories on every call, so a restarted endpoint sees all.
import { createHash } from 'node:crypto';
import type { PodManifest } from '../../../common/appc/index.js';
import { readPodManifestFile } from '../../pod/info.js';
import { probePod, type PodSnapshot } from '../../pod/state.js';
import { isPodUuid, listPodUuids } from '../../pod/uuid.js';
import { notFound } from '../errors.js';
import { CONTAINER_ANNOTATION, parseContainerRecord, parseSandboxRecord, SANDBOX_ANNOTATION, type ContainerRecord, type SandboxRecord } from '../records.js';

export interface CriSandbox {
  snap: PodSnapshot;
  manifest: PodManifest;
  record: SandboxRecord;
}

export interface CriContainer {
  sandbox: CriSandbox;
  app: string;
  record: ContainerRecord;
}

/** Container ids are derived, not stored: sha256 of "<pod uuid>/<app name>" (64 hex, like containerd's). */
export function containerIdFor(uuid: string, app: string): string {
  return createHash('sha256').update(`${uuid}/${app}`).digest('hex');
}

function annotation(list: readonly { name: string; value: string }[], name: string): string | undefined {
  return list.find((a) => a.name === name)?.value;
}

export async function readSandbox(dataDir: string, uuid: string): Promise<CriSandbox | undefined> {
  if (!isPodUuid(uuid)) return undefined;
  const snap = await probePod(dataDir, uuid);
  if (snap === undefined) return undefined;
  const manifest = await readPodManifestFile(snap.dir).catch(() => undefined);
  const text = manifest && annotation(manifest.annotations, SANDBOX_ANNOTATION);
  if (manifest === undefined || text === undefined) return undefined;
  return { snap, manifest, record: parseSandboxRecord(text) };
}

export async function requireSandbox(dataDir: string, id: string): Promise<CriSandbox> {
  const sb = await readSandbox(dataDir, id);
  if (sb === undefined) throw notFound(`pod sandbox "${id}" not found`);
  return sb;
}

export async function listSandboxes(dataDir: string): Promise<CriSandbox[]> {
  const all = await Promise.all((await listPodUuids(dataDir)).map((u) => readSandbox(dataDir, u).catch(() => undefined)));
  return all.filter((s): s is CriSandbox => s !== undefined);
}

export function containersOf(sb: CriSandbox): CriContainer[] {
  const out: CriContainer[] = [];
  for (const app of sb.manifest.apps) {
    const text = annotation(app.annotations, CONTAINER_ANNOTATION);
    if (text === undefined) continue;
    out.push({ sandbox: sb, app: app.name, record: parseContainerRecord(text) });
  }
  return out;
}

/** id -> pod uuid, learnt from listings; a miss rescans (ids are derived, so the cache never lies for long). */
export class ContainerIndex {
  private readonly byId = new Map<string, string>();

  constructor(private readonly dataDir: string) {}

  remember(c: CriContainer): void {
    this.byId.set(c.record.id, c.sandbox.snap.uuid);
  }

  async find(id: string): Promise<CriContainer | undefined> {
    const uuid = this.byId.get(id);
    if (uuid !== undefined) {
      const sb = await readSandbox(this.dataDir, uuid);
      const c = sb && containersOf(sb).find((x) => x.record.id === id);
      if (c) return c;
      this.byId.delete(id);
    }
    let found: CriContainer | undefined;
    for (const sb of await listSandboxes(this.dataDir)) {
      for (const c of containersOf(sb)) {
        this.remember(c);
        if (c.record.id === id) found = c;
      }
    }
    return found;
  }

  async require(id: string): Promise<CriContainer> {
    const c = await this.find(id);
    if (c === undefined) throw notFound(`container "${id}" not found`);
    return c;
  }
}
