// From an OCI image config to the appc image manifest the rest of rkt reads (pod manifests, stage1s,
// the metadata service), following the image-spec's conversion rules. What appc cannot say on its own
// (Entrypoint and Cmd apart, the User string, StopSignal, where the image came from) travels as
// annotations under rkt-ts/oci/, which stage0 and the stage1s read back.
import {
  AC_VERSION, isACIdentifier, sanitizeACName, type Annotation, type App, type ImageManifest, type Label, type MountPoint, type Port,
} from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import type { ImageConfigDoc } from './documents.js';

export const OCI_ANNOTATION = {
  entrypoint: 'rkt-ts/oci/entrypoint',
  cmd: 'rkt-ts/oci/cmd',
  user: 'rkt-ts/oci/user',
  stopSignal: 'rkt-ts/oci/stop-signal',
  reference: 'rkt-ts/oci/reference',
  manifestDigest: 'rkt-ts/oci/manifest-digest',
  configDigest: 'rkt-ts/oci/config-digest',
} as const;

/** Docker's PATH for images that set none, so `sh` and friends resolve as they do under Docker. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** "8080/tcp" -> 8080-tcp; "53/udp"; "8000-8010/tcp" (a range); no protocol means tcp. */
export function exposedPortToAppc(spec: string): Port {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(spec.trim());
  const lo = m?.[1] !== undefined ? Number(m[1]) : NaN;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (!m || !(lo >= 1 && lo <= 65535) || !(hi >= lo && hi <= 65535)) {
    throw new RktError('IMAGE_INVALID', `invalid ExposedPorts entry ${JSON.stringify(spec)} in the image config`, {
      hint: 'ports are PORT[/tcp|udp|sctp], 1-65535',
    });
  }
  const protocol = (m[3] ?? 'tcp').toLowerCase();
  return { name: `${lo}-${protocol}`, protocol, port: lo, count: hi - lo + 1, socketActivated: false };
}

/** The mount point name of an image VOLUME: volume-<path with dashes>, e.g. /var/lib/data -> volume-var-lib-data. */
export function volumeName(p: string): string {
  return `volume-${sanitizeACName(p) ?? 'root'}`;
}

function envList(env: readonly string[]): { name: string; value: string }[] {
  const out = new Map<string, string>();
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq <= 0) continue; // "NAME" alone means "unset" in Docker's grammar; there is nothing to pass.
    out.set(e.slice(0, eq), e.slice(eq + 1));
  }
  if (!out.has('PATH')) out.set('PATH', DEFAULT_PATH);
  return [...out].map(([name, value]) => ({ name, value }));
}

/** "uid[:gid]" or "name[:group]": the numeric parts as appc user/group; names are resolved at prepare. */
export function splitUser(user: string | undefined): { user: string; group: string } {
  if (user === undefined || user === '') return { user: '0', group: '0' };
  const i = user.indexOf(':');
  const u = i >= 0 ? user.slice(0, i) : user;
  const g = i >= 0 ? user.slice(i + 1) : '';
  return { user: u === '' ? '0' : u, group: g === '' ? '0' : g };
}

export interface ImageIdentity {
  /** AC name for the store and pod manifests, e.g. 127.0.0.1-5000/acme/app. */
  name: string;
  /** Tag, or the manifest digest's first 12 hex digits when pulled by digest. */
  version: string;
  reference: string;
  manifestDigest: string;
  configDigest: string;
}

/** An AC identifier for a docker reference's host/repository: lower case, ":" of a port becomes "-". */
export function acNameFor(hostAndRepo: string): string {
  const n = hostAndRepo.toLowerCase().replace(/:/g, '-').replace(/[^a-z0-9._~/-]/g, '-').replace(/([-._~/])[-._~/]+/g, '$1');
  const trimmed = n.replace(/^[-._~/]+|[-._~/]+$/g, '');
  return isACIdentifier(trimmed) ? trimmed : `oci/${sanitizeACName(hostAndRepo) ?? 'image'}`;
}

export function appcManifestFor(cfg: ImageConfigDoc, id: ImageIdentity): ImageManifest {
  const c = cfg.config;
  const { user, group } = splitUser(c.user);
  const exec = [...(c.entrypoint ?? []), ...(c.cmd ?? [])];
  const mountPoints: MountPoint[] = c.volumes.map((p) => ({ name: volumeName(p), path: p, readOnly: false }));
  const app: App = {
    exec, user, group, supplementaryGIDs: [], eventHandlers: [], workingDirectory: c.workingDir && c.workingDir.startsWith('/') ? c.workingDir : '/',
    environment: envList(c.env), mountPoints, ports: c.exposedPorts.map(exposedPortToAppc), isolators: [],
  };
  const annotations: Annotation[] = [
    { name: OCI_ANNOTATION.entrypoint, value: JSON.stringify(c.entrypoint ?? []) },
    { name: OCI_ANNOTATION.cmd, value: JSON.stringify(c.cmd ?? []) },
    { name: OCI_ANNOTATION.reference, value: id.reference },
    { name: OCI_ANNOTATION.manifestDigest, value: id.manifestDigest },
    { name: OCI_ANNOTATION.configDigest, value: id.configDigest },
  ];
  if (c.user !== undefined && c.user !== '') annotations.push({ name: OCI_ANNOTATION.user, value: c.user });
  if (c.stopSignal !== undefined) annotations.push({ name: OCI_ANNOTATION.stopSignal, value: c.stopSignal });
  // Image labels whose keys are valid AC identifiers are kept as annotations; the rest stay in oci-config.json.
  for (const [k, v] of Object.entries(c.labels)) if (isACIdentifier(k) && !k.startsWith('rkt-ts/')) annotations.push({ name: k, value: v });
  const labels: Label[] = [{ name: 'version', value: id.version }];
  if (cfg.os) labels.push({ name: 'os', value: cfg.os });
  if (cfg.architecture) labels.push({ name: 'arch', value: cfg.architecture });
  return { acKind: 'ImageManifest', acVersion: AC_VERSION, name: id.name, labels, app, annotations, dependencies: [], pathWhitelist: [] };
}

/** Entrypoint and Cmd as recorded at import, when the image is an OCI image. */
export function ociCommandOf(m: ImageManifest): { entrypoint: string[]; cmd: string[] } | undefined {
  const get = (n: string): string[] | undefined => {
    const a = m.annotations.find((x) => x.name === n);
    if (!a) return undefined;
    try {
      const v: unknown = JSON.parse(a.value);
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
    } catch {
      return undefined;
    }
  };
  const entrypoint = get(OCI_ANNOTATION.entrypoint);
  const cmd = get(OCI_ANNOTATION.cmd);
  return entrypoint && cmd ? { entrypoint, cmd } : undefined;
}

export function annotationOf(m: ImageManifest, name: string): string | undefined {
  return m.annotations.find((a) => a.name === name)?.value;
}
