// `empty` pod volumes, shared by both stage1s; an OCI image's VOLUME that nothing fills is such a volume,
// and (as Docker does) starts out as a copy of what the image holds at that path. stage0 names those in
// a pod annotation; the copy is made once, when the volume's backing directory is first created.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PodManifest, Volume } from '../../common/appc/index.js';
import { RktError, errnoCode } from '../../common/errors.js';
import { appRootfsPath } from '../../common/pod-layout.js';
import { resolveInRoot } from '../../common/in-root.js';

const run = promisify(execFile);

export const SEED_VOLUMES_ANNOTATION = 'rkt-ts/oci/seed-volumes';

/** Volume `volume` starts as a copy of `path` of app `app`'s image. */
export interface VolumeSeed {
  volume: string;
  app: string;
  path: string;
}

/** A --private-users range: ids 0..count-1 of a tree appear on the host as shift..shift+count-1. */
export interface IdRange {
  shift: number;
  count: number;
}

function invalid(msg: string): RktError {
  return new RktError('POD_INVALID', `pod annotation ${SEED_VOLUMES_ANNOTATION}: ${msg}`);
}

/** The pod's volume seeds by volume name (the first seed of a volume wins). */
export function podVolumeSeeds(pod: PodManifest): Map<string, VolumeSeed> {
  const out = new Map<string, VolumeSeed>();
  const raw = pod.annotations.find((a) => a.name === SEED_VOLUMES_ANNOTATION)?.value;
  if (raw === undefined) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid('not JSON');
  }
  if (!Array.isArray(parsed)) throw invalid('expected a JSON array');
  for (const e of parsed) {
    const r = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const { volume, app, path: p } = r;
    if (typeof volume !== 'string' || typeof app !== 'string' || typeof p !== 'string' || !p.startsWith('/')) {
      throw invalid('each entry needs volume, app and an absolute path');
    }
    if (!pod.apps.some((a) => a.name === app)) throw invalid(`volume "${volume}" is seeded from app "${app}", which the pod does not have`);
    if (!out.has(volume)) out.set(volume, { volume, app, path: p });
  }
  return out;
}

/** The host id for a tree id: ids already inside the range stay (trees seen through ID-mapped layers). */
export function shiftId(id: number, r: IdRange): number {
  if (id >= r.shift && id < r.shift + r.count) return id;
  if (id < r.count) return id + r.shift;
  return r.shift + r.count - 2; // what the range cannot express becomes its "nobody" (65534 of 65536)
}

async function shiftCopy(dir: string, r: IdRange): Promise<void> {
  const st = await fs.lstat(dir);
  const uid = shiftId(st.uid, r);
  const gid = shiftId(st.gid, r);
  if (uid !== st.uid || gid !== st.gid) {
    await fs.lchown(dir, uid, gid);
    // chown drops set-id bits of regular files; the copy keeps the image's
    if (st.isFile() && (st.mode & 0o6000) !== 0) await fs.chmod(dir, st.mode & 0o7777);
  }
  if (!st.isDirectory()) return;
  for (const e of await fs.readdir(dir)) await shiftCopy(path.join(dir, e), r);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** Where the image's content for a seed is on the host, resolved inside the app's root; undefined: none. */
async function seedSource(podDir: string, s: VolumeSeed): Promise<string | undefined> {
  const root = appRootfsPath(podDir, s.app);
  const src = await resolveInRoot(root, s.path);
  if (src === undefined) return undefined;
  const st = await fs.lstat(src);
  if (!st.isDirectory()) {
    throw new RktError('POD_INVALID', `volume "${s.volume}": ${s.path} in the image of app "${s.app}" is not a directory`);
  }
  return src;
}

export interface EmptyVolumeOptions {
  podDir: string;
  /** The volume's backing directory. */
  dir: string;
  volume: Volume;
  seeds: ReadonlyMap<string, VolumeSeed>;
  /** The shift the volume's owners get on disk (the stage1 maps nothing else onto it), if any. */
  ids?: IdRange;
}

/**
 * Creates (or, unseeded, re-asserts) an `empty` volume's backing directory. A seeded one is copied from
 * the image, owners, modes, links and all, into a sibling and renamed into place, so a start that dies
 * half way through copies again; once it exists it is the pod's data and is left alone.
 */
export async function prepareEmptyVolume(o: EmptyVolumeOptions): Promise<void> {
  const v = o.volume;
  const seed = o.seeds.get(v.name);
  const shift = o.ids?.shift ?? 0;
  // a seeded volume that exists was seeded (or found nothing to copy) by an earlier start
  if (seed !== undefined && (await exists(o.dir))) return;
  const src = seed !== undefined ? await seedSource(o.podDir, seed) : undefined;
  if (src === undefined) {
    await fs.mkdir(o.dir, { recursive: true });
    await fs.chmod(o.dir, parseInt(v.mode ?? '0755', 8));
    await fs.chown(o.dir, (v.uid ?? 0) + shift, (v.gid ?? 0) + shift);
    return;
  }
  // volume names are AC names (no dots), so this sibling cannot be another volume
  const tmp = path.join(path.dirname(o.dir), `.${path.basename(o.dir)}.seeding`);
  await fs.mkdir(path.dirname(o.dir), { recursive: true });
  await fs.rm(tmp, { recursive: true, force: true });
  try {
    // -a never follows the image's symlinks (they are copied as links) and keeps hard links, devices,
    // fifos, xattrs; -T makes tmp the copy of src itself, its mode and owner included
    await run('cp', ['-a', '-T', '--', src, tmp]);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    const detail = (err as { stderr?: unknown }).stderr;
    throw new RktError('STAGE1', `volume "${v.name}": cannot copy ${seed?.path ?? ''} from the image of app "${seed?.app ?? ''}": ${typeof detail === 'string' && detail.trim() !== '' ? detail.trim().split('\n')[0] : String(err)}`, { cause: err });
  }
  if (o.ids !== undefined) await shiftCopy(tmp, o.ids);
  await fs.rename(tmp, o.dir);
}
