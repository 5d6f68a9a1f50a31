// One app of a pod, from manifests to files in the pod root: the run pipeline calls these for every
// boot-time app, and app/add for an app added to a running mutable pod, so both get the same unit.
//
// API for entrypoints (both flavors):
//   buildAppSpec(podDir, traits, runtime, pod, app, image, opts?) -> AppUnitSpec
//       `runtime`: the record's RuntimeRecord; `opts.interactive` only for run's own apps (default false)
//   writeAppFiles(podDir, spec)  -> the app's service, env file, slice, and stage1 accounts for its ids
//   enterProfileOf(spec)         -> the EnterProfile to keep in the record's `apps` (enter reads it)
import type { ImageManifest, PodManifest, RuntimeApp } from '../common/appc/index.js';
import { appRootfsPath, stage1RootfsPath } from '../common/pod-layout.js';
import type { FlavorTraits } from './flavor-traits.js';
import { appEtcBinds } from './networking/pod-etc.js';
import type { RuntimeRecord } from './record/stage1-record.js';
import { appSandboxProperties } from './units/app-unit.js';
import { buildAppUnitSpec, DEFAULT_PATH, type AppUnitSpec } from './units/app-spec.js';
import type { EnterProfile } from './units/enter.js';
import { appFiles, writePodFiles } from './units/pod-units.js';
import { ensureStage1Accounts } from './units/users.js';

export async function buildAppSpec<S>(
  podDir: string, traits: FlavorTraits<S>, runtime: RuntimeRecord, pod: PodManifest, app: RuntimeApp, image: ImageManifest,
  opts: { interactive?: boolean } = {},
): Promise<AppUnitSpec> {
  const appRootfs = appRootfsPath(podDir, app.name);
  return buildAppUnitSpec({
    pod, app, image, appRootfs, diskShift: runtime.diskShift,
    etcBinds: await appEtcBinds(runtime.podEtc, appRootfs),
    volumePath: (v) => traits.volumePath(v),
    disableCapabilities: runtime.disableCapabilities, disablePaths: runtime.disablePaths, disableSeccomp: runtime.disableSeccomp,
    interactive: opts.interactive ?? false,
    ...(runtime.metadataUrl !== undefined ? { metadataUrl: runtime.metadataUrl } : {}),
  });
}

/** The pod's systemd runs units as numeric ids: the stage1 root needs accounts for them. */
export async function ensureAppAccounts(podDir: string, specs: readonly AppUnitSpec[]): Promise<void> {
  await ensureStage1Accounts(
    stage1RootfsPath(podDir),
    specs.map((s) => s.identity.uid),
    specs.flatMap((s) => [s.identity.gid, ...s.identity.supplementaryGids]),
  );
}

export async function writeAppFiles(podDir: string, spec: AppUnitSpec): Promise<void> {
  await ensureAppAccounts(podDir, [spec]);
  await writePodFiles(stage1RootfsPath(podDir), appFiles(spec));
}

export function enterProfileOf(spec: AppUnitSpec): EnterProfile {
  return {
    properties: appSandboxProperties(spec).map(([k, v]): [string, string] => [k, v]),
    path: spec.env.find((e) => e.name === 'PATH')?.value ?? DEFAULT_PATH,
    workingDirectory: spec.workingDirectory,
    ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
  };
}
