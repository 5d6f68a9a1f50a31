// stage1-flavor.json, the stage1's own record in the pod dir (stage0 never reads it): written once by the
// run pipeline, read by every later entrypoint of the same stage1 (enter, stop, gc, app/*), which work
// from it alone since the overlays may be unmounted by then.
//
// API for entrypoints (both flavors):
//   readStage1Record(podDir, codec)           -> Stage1Record<S> | undefined (undefined: run never wrote one)
//   updateStage1Record(podDir, codec, mutate) -> the record as written (read, mutate, validate, tmp + rename)
//   writeStage1Record(podDir, codec, record)  -> the run pipeline's first write
// `codec` is the flavor's FlavorRecordCodec (stage1-<flavor>/flavor/traits.ts): it names the flavor and reads
// the flavor's own section, so a record from another flavor, or a damaged one, is refused with the field at fault.
//
// Layout: { flavor, runtime: RuntimeRecord, apps: { <app>: EnterProfile }, flavorState: <the flavor's own> }.
import fs from 'node:fs/promises';
import { RktError, errnoCode } from '../../common/errors.js';
import { stage1FlavorInfoPath } from '../../common/pod-layout.js';
import type { PodEtcBind, PodEtcBinds } from '../networking/pod-etc.js';
import type { EnterProfile } from '../units/enter.js';
import { RecordFields } from './fields.js';

/**
 * Flavor-neutral facts of the run: everything an app added later (app/add) needs to get a unit built
 * exactly as run built the boot-time apps' (buildAppSpec reads it), plus what enter needs to join the pod.
 * Added apps are never interactive (only run's own apps get the terminal), so `--interactive` is not here.
 */
export interface RuntimeRecord {
  hostname: string;
  /** run --mutable: apps come and go, the pod outlives them. */
  mutable: boolean;
  /** run --private-users: the pod's uid/gid range. */
  privateUsers?: { shift: number; count: number };
  /** Shift of on-disk ownership the app units compensate for (nspawn's ID-mapped overlays), else 0. */
  diskShift: number;
  disableCapabilities: boolean;
  disablePaths: boolean;
  disableSeccomp: boolean;
  /** AC_METADATA_URL of the pod's apps, when it is registered with the metadata service. */
  metadataUrl?: string;
  /** The pod's /etc files as written into the stage1 root (what appEtcBinds needs for each app). */
  podEtc: PodEtcBinds;
}

export interface Stage1Record<S> {
  flavor: string;
  runtime: RuntimeRecord;
  /** Per app: what `enter` needs to confine a command like the app. */
  apps: Record<string, EnterProfile>;
  flavorState: S;
}

/** How a flavor names itself in the record and reads its own section (strictly; through `f` for errors). */
export interface FlavorRecordCodec<S> {
  readonly flavor: string;
  parseState(f: RecordFields): S;
}

function parseEtcBind(f: RecordFields): PodEtcBind {
  return { source: f.str('source'), target: f.str('target') };
}

function parseRuntime(f: RecordFields): RuntimeRecord {
  const etc = f.obj('podEtc');
  const fallback = etc.optObj('hostsFallback');
  const pu = f.optObj('privateUsers');
  const mds = f.optStr('metadataUrl');
  return {
    hostname: f.str('hostname'), mutable: f.bool('mutable'), diskShift: f.count('diskShift'),
    disableCapabilities: f.bool('disableCapabilities'), disablePaths: f.bool('disablePaths'), disableSeccomp: f.bool('disableSeccomp'),
    podEtc: { binds: etc.objList('binds', parseEtcBind), ...(fallback ? { hostsFallback: parseEtcBind(fallback) } : {}) },
    ...(pu ? { privateUsers: { shift: pu.count('shift'), count: pu.count('count') } } : {}),
    ...(mds !== undefined ? { metadataUrl: mds } : {}),
  };
}

function parseProfile(f: RecordFields): EnterProfile {
  const stdin = f.optObj('stdin');
  return {
    properties: f.pairList('properties'), path: f.str('path'), workingDirectory: f.str('workingDirectory'),
    ...(stdin ? { stdin: { once: stdin.bool('once') } } : {}),
  };
}

/** Validates a parsed document as `codec`'s record. */
export function parseStage1Record<S>(file: string, v: unknown, codec: FlavorRecordCodec<S>): Stage1Record<S> {
  const f = RecordFields.of(file, v);
  const flavor = f.str('flavor');
  if (flavor !== codec.flavor) {
    throw new RktError('POD_INVALID', `invalid ${file}: written by the ${flavor} stage1, read by the ${codec.flavor} one`);
  }
  return { flavor, runtime: parseRuntime(f.obj('runtime')), apps: f.entries('apps', parseProfile), flavorState: codec.parseState(f.obj('flavorState')) };
}

export async function readStage1Record<S>(podDir: string, codec: FlavorRecordCodec<S>): Promise<Stage1Record<S> | undefined> {
  const file = stage1FlavorInfoPath(podDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new RktError('POD_INVALID', `cannot read ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new RktError('POD_INVALID', `invalid ${file}: not JSON`, { cause: err });
  }
  return parseStage1Record(file, v, codec);
}

/** Writes through a temp file and rename, so a reader never sees half a record; validates first. */
export async function writeStage1Record<S>(podDir: string, codec: FlavorRecordCodec<S>, rec: Stage1Record<S>): Promise<void> {
  const file = stage1FlavorInfoPath(podDir);
  const text = `${JSON.stringify(rec, null, 2)}\n`;
  parseStage1Record(file, JSON.parse(text), codec);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o644 });
  await fs.rename(tmp, file);
}

/**
 * Read-modify-write of the record (app/add records a new app's enter profile). Callers serialize on the
 * pod's app lock (stage0 holds it around every app entrypoint), so no lock here.
 */
export async function updateStage1Record<S>(
  podDir: string, codec: FlavorRecordCodec<S>, mutate: (rec: Stage1Record<S>) => Stage1Record<S> | void,
): Promise<Stage1Record<S>> {
  const rec = await readStage1Record(podDir, codec);
  if (rec === undefined) throw new RktError('POD_STATE', `${stage1FlavorInfoPath(podDir)} is missing: the pod never finished starting`);
  const next = mutate(rec) ?? rec;
  await writeStage1Record(podDir, codec, next);
  return next;
}
