// Builds the pod manifest from the images and the command line, with rkt's override rules:
// env precedence inherit < image < --set-env-file < --set-env < --environment; per-app --mount wins over
// a pod-wide one on the same path; CLI isolators replace the image's isolator of the same name.
import fs from 'node:fs/promises';
import {
  AC_VERSION, capsRemoveIsolator, capsRetainIsolator, cpuIsolator, cpuSharesIsolator, defaultAppName, memoryIsolator,
  oomScoreAdjIsolator, seccompIsolator, validateACName,
  type App, type ExposedPort, type ImageManifest, type Isolator, type PodManifest, type Port, type RuntimeApp, type Volume,
} from '../../common/appc/index.js';
import { errnoCode, RktError } from '../../common/errors.js';
import { resolvePortForwards } from '../../common/networking/port-forward.js';
import type { AppArg, MountArg, PodArgs } from './pod-args.js';
import { ociCommandOf } from '../oci/config-to-app.js';
import { MUTABLE_ANNOTATION } from './mutable.js';

export interface ResolvedApp {
  arg: AppArg;
  imageId: string;
  manifest: ImageManifest;
}

type Env = Map<string, string>;

/** KEY=VALUE lines; blank lines and # comments skipped. */
export async function readEnvFile(file: string): Promise<{ name: string; value: string }[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new RktError('USAGE', `cannot read --set-env-file ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  const out: { name: string; value: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new RktError('USAGE', `invalid --set-env-file ${file}:${i + 1}: expected NAME=VALUE`);
    out.push({ name: line.slice(0, eq), value: line.slice(eq + 1) });
  });
  return out;
}

function setAll(env: Env, list: readonly { name: string; value: string }[]): void {
  for (const e of list) env.set(e.name, e.value);
}

function mergedMounts(podMounts: readonly MountArg[], appMounts: readonly MountArg[]): { volume: string; path: string }[] {
  const byPath = new Map<string, string>();
  for (const m of podMounts) byPath.set(m.target, m.volume);
  for (const m of appMounts) byPath.set(m.target, m.volume);
  return [...byPath].map(([p, volume]) => ({ volume, path: p }));
}

function cliIsolators(a: AppArg): Isolator[] {
  const out: Isolator[] = [];
  if (a.memory !== undefined) out.push(memoryIsolator(a.memory));
  if (a.cpu !== undefined) out.push(cpuIsolator(a.cpu));
  if (a.cpuShares !== undefined) out.push(cpuSharesIsolator(a.cpuShares));
  if (a.capsRetain !== undefined) out.push(capsRetainIsolator(a.capsRetain));
  if (a.capsRemove !== undefined) out.push(capsRemoveIsolator(a.capsRemove));
  if (a.seccomp !== undefined) out.push(seccompIsolator(a.seccomp.mode, a.seccomp.set, a.seccomp.errno));
  if (a.oomScoreAdj !== undefined) out.push(oomScoreAdjIsolator(a.oomScoreAdj));
  return out;
}

/** Families a CLI isolator replaces: retain and remove sets of one kind exclude each other. */
function replacedBy(name: string): string[] {
  if (name.startsWith('os/linux/capabilities-')) return ['os/linux/capabilities-retain-set', 'os/linux/capabilities-remove-set'];
  if (name.startsWith('os/linux/seccomp-')) return ['os/linux/seccomp-retain-set', 'os/linux/seccomp-remove-set'];
  return [name];
}

function mergeIsolators(image: readonly Isolator[], cli: readonly Isolator[]): Isolator[] {
  const drop = new Set(cli.flatMap((i) => replacedBy(i.name)));
  return [...image.filter((i) => !drop.has(i.name)), ...cli];
}

/**
 * --socket-activated-port: a port of the image by name, or by number (PORT[/tcp|udp], tcp by default); a
 * number the image does not expose becomes a new port PORT-PROTO, as an OCI image's EXPOSE would be named.
 */
export function markSocketActivated(app: string, ports: readonly Port[], wanted: readonly string[]): Port[] {
  const out = ports.map((p) => ({ ...p }));
  for (const w of wanted) {
    const byName = out.find((p) => p.name === w);
    if (byName) {
      byName.socketActivated = true;
      continue;
    }
    const m = /^([0-9]{1,5})(?:\/(tcp|udp))?$/.exec(w);
    const num = m ? Number(m[1]) : NaN;
    if (!m || !(num >= 1 && num <= 65535)) {
      throw new RktError('USAGE', `--socket-activated-port=${w}: app ${app} has no port named "${w}" (ports: ${out.map((p) => p.name).join(', ') || 'none'})`, {
        hint: 'name a port of the image, or give PORT[/tcp|udp]',
      });
    }
    const protocol = m[2] ?? 'tcp';
    const byNumber = out.find((p) => p.port === num && p.protocol === protocol);
    if (byNumber) byNumber.socketActivated = true;
    else out.push({ name: `${num}-${protocol}`, protocol, port: num, count: 1, socketActivated: true });
  }
  return out;
}

function buildApp(r: ResolvedApp, name: string, p: PodArgs, env: Env, img: App | undefined, a: AppArg): RuntimeApp {
  const app: App = img
    ? { ...img, exec: [...img.exec], environment: [], isolators: [...img.isolators] }
    : {
        exec: [], user: '0', group: '0', supplementaryGIDs: [], eventHandlers: [], workingDirectory: '/', environment: [],
        mountPoints: [], ports: [], isolators: [],
      };
  app.exec = execFor(r.manifest, app.exec, a);
  if (app.exec.length === 0) throw new RktError('USAGE', `app ${name} has no exec`, { hint: 'give one with --exec after the image' });
  if (a.user !== undefined) app.user = a.user;
  if (a.group !== undefined) app.group = a.group;
  if (a.supplementaryGids !== undefined) app.supplementaryGIDs = a.supplementaryGids;
  if (a.workingDir !== undefined) app.workingDirectory = a.workingDir;
  setAll(env, a.environment);
  app.environment = [...env].map(([n, value]) => ({ name: n, value }));
  app.isolators = mergeIsolators(app.isolators, cliIsolators(a));
  if (a.socketActivatedPorts !== undefined) app.ports = markSocketActivated(name, app.ports, a.socketActivatedPorts);
  if (Object.keys(a.userAnnotations).length > 0) app.userAnnotations = { ...a.userAnnotations };
  if (Object.keys(a.userLabels).length > 0) app.userLabels = { ...a.userLabels };
  const ra: RuntimeApp = {
    name,
    image: { name: r.manifest.name, id: r.imageId, labels: r.manifest.labels },
    app,
    mounts: mergedMounts(p.podMounts, a.mounts),
    annotations: Object.entries(a.annotations).map(([n, value]) => ({ name: n, value })),
  };
  if (a.readonlyRootfs !== undefined) ra.readOnlyRootFS = a.readonlyRootfs;
  return ra;
}

/**
 * The command line of an app. ACIs keep rkt's rule (--exec replaces the exec, args are appended). OCI
 * images get Docker's: --exec replaces the Entrypoint (and, as `docker run --entrypoint` does, drops the
 * image's Cmd), and `-- ARGS ---` replace the Cmd (rkt#3909).
 */
function execFor(image: ImageManifest, exec: readonly string[], a: AppArg): string[] {
  const oci = ociCommandOf(image);
  if (!oci) {
    let out = a.exec !== undefined ? [a.exec] : [...exec];
    if (a.args !== undefined) out = [...out, ...a.args];
    return out;
  }
  const entrypoint = a.exec !== undefined ? [a.exec] : oci.entrypoint;
  const cmd = a.args !== undefined ? a.args : a.exec !== undefined ? [] : oci.cmd;
  return [...entrypoint, ...cmd];
}

/** The pod manifest for `run`/`prepare` with images on the command line. */
export async function generatePodManifest(p: PodArgs, apps: readonly ResolvedApp[], inheritedEnv: NodeJS.ProcessEnv): Promise<PodManifest> {
  // Layers under --environment, in precedence order; the image layer is applied per app.
  const inherit: Env = new Map();
  if (p.inheritEnv) for (const [k, v] of Object.entries(inheritedEnv)) if (v !== undefined) inherit.set(k, v);
  const above: Env = new Map();
  for (const f of p.setEnvFiles) setAll(above, await readEnvFile(f));
  setAll(above, p.setEnv);

  const names = new Set<string>();
  const out: RuntimeApp[] = [];
  for (const r of apps) {
    const name = r.arg.name !== undefined ? validateACName(r.arg.name, '--name') : defaultAppName(r.manifest.name);
    if (name === undefined) throw new RktError('USAGE', `cannot derive an app name from image ${r.manifest.name}`, { hint: 'give one with --name' });
    if (names.has(name)) throw new RktError('USAGE', `two apps are named "${name}"`, { hint: 'give each a distinct --name' });
    names.add(name);
    const env: Env = new Map(inherit);
    setAll(env, r.manifest.app?.environment ?? []);
    for (const [k, v] of above) env.set(k, v);
    if (!r.manifest.app && r.arg.exec === undefined) {
      throw new RktError('USAGE', `image ${r.manifest.name} has no app to run`, { hint: 'give one with --exec after the image' });
    }
    out.push(buildApp(r, name, p, env, r.manifest.app, r.arg));
  }
  checkVolumes(p.volumes, out);
  const seeded = imageVolumes(p.volumes, apps, out);
  const annotations = [{ name: MUTABLE_ANNOTATION, value: p.mutable ? 'true' : 'false' }];
  if (seeded.seeds.length > 0) annotations.push({ name: SEED_VOLUMES_ANNOTATION, value: JSON.stringify(seeded.seeds) });
  for (const [name, value] of Object.entries(p.podAnnotations)) {
    if (name === MUTABLE_ANNOTATION) continue;
    annotations.push({ name, value });
  }
  const pod: PodManifest = {
    acKind: 'PodManifest',
    acVersion: AC_VERSION,
    apps: out,
    volumes: [...p.volumes, ...seeded.volumes],
    isolators: [],
    annotations,
    ports: exposedPorts(p, apps),
  };
  if (Object.keys(p.podUserAnnotations).length > 0) pod.userAnnotations = { ...p.podUserAnnotations };
  if (Object.keys(p.podUserLabels).length > 0) pod.userLabels = { ...p.podUserLabels };
  return pod;
}

/** Pod annotation listing the empty volumes a stage1 fills from an app's image (OCI VOLUME semantics). */
export const SEED_VOLUMES_ANNOTATION = 'rkt-ts/oci/seed-volumes';

export interface VolumeSeed {
  volume: string;
  app: string;
  path: string;
}

/**
 * An OCI image's VOLUMEs that the command line leaves alone (no --volume of that name, no --mount on
 * that path) become empty volumes seeded with the image's content there, as Docker makes them; each
 * is shared by the apps of the pod that declare it, and seeded from the first.
 */
function imageVolumes(declared: readonly Volume[], apps: readonly ResolvedApp[], out: readonly RuntimeApp[]): { volumes: Volume[]; seeds: VolumeSeed[] } {
  const names = new Set(declared.map((v) => v.name));
  const volumes: Volume[] = [];
  const seeds: VolumeSeed[] = [];
  apps.forEach((r, i) => {
    const ra = out[i];
    if (!ra || !ociCommandOf(r.manifest)) return;
    for (const mp of r.manifest.app?.mountPoints ?? []) {
      if (names.has(mp.name) || ra.mounts.some((m) => m.path === mp.path || m.path === mp.name)) continue;
      names.add(mp.name);
      volumes.push({ name: mp.name, kind: 'empty', mode: '0755', uid: 0, gid: 0 });
      seeds.push({ volume: mp.name, app: ra.name, path: mp.path });
    }
  });
  return { volumes, seeds };
}

/** --port values as the manifest's ports; checked now against the images so a typo fails before the pod starts. */
function exposedPorts(p: PodArgs, apps: readonly ResolvedApp[]): ExposedPort[] {
  const ports: ExposedPort[] = p.ports.map((f) => ({
    name: f.name, hostPort: f.hostPort, ...(f.hostIP !== undefined ? { hostIP: f.hostIP } : {}), ...(f.podPort !== undefined ? { podPort: f.podPort } : {}),
  }));
  resolvePortForwards(ports, apps.flatMap((r) => r.manifest.app?.ports ?? []));
  return ports;
}

/** Every mount names a declared volume; volume names are unique. */
export function checkVolumes(volumes: readonly Volume[], apps: readonly RuntimeApp[]): void {
  const seen = new Set<string>();
  for (const v of volumes) {
    if (seen.has(v.name)) throw new RktError('USAGE', `volume "${v.name}" is declared twice`);
    seen.add(v.name);
  }
  for (const a of apps) {
    for (const m of a.mounts) {
      if (!seen.has(m.volume) && !m.appVolume) {
        throw new RktError('USAGE', `app ${a.name} mounts volume "${m.volume}", which is not declared`, { hint: `add --volume ${m.volume},kind=host,source=PATH` });
      }
    }
  }
}

