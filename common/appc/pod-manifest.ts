// Parsing and validation of appc pod manifests (the "pod" file of a pod directory, also served by
// the metadata service and accepted by --pod-manifest).

import { isIP } from 'node:net';
import { parseApp, parsePort } from './app.js';
import { checkKind, decodeJson, withManifestErrors } from './manifest-input.js';
import { parseIsolators } from './isolators.js';
import { parseAnnotations, parseLabels } from './labels.js';
import { checkACIdentifier, checkACName, checkImageId, checkSemVer } from './names.js';
import {
  type JsonObject, arrayField, asInteger, asObject, asString, asStringMap, assertUnique, fail, field, join,
  optionalBoolean, optionalString, requiredString,
} from './reader.js';
import type { ExposedPort, Mount, PodManifest, RuntimeApp, RuntimeImage, Volume } from './types.js';

export interface ParsePodManifestOptions {
  /** Accept apps without image.id (a pod template, resolved later by name and labels). */
  allowTemplate?: boolean;
}

const MODE = /^[0-7]{3,4}$/;

export function parseVolume(v: unknown, path: string): Volume {
  const obj = asObject(v, path);
  const name = checkACName(requiredString(obj, 'name', path), join(path, 'name'));
  const kind = requiredString(obj, 'kind', path);
  if (kind !== 'host' && kind !== 'empty') fail(join(path, 'kind'), 'must be "host" or "empty"', kind);
  const vol: Volume = { name, kind };
  const source = optionalString(obj, 'source', path);
  const readOnly = optionalBoolean(obj, 'readOnly', path);
  const recursive = optionalBoolean(obj, 'recursive', path);
  const mode = optionalString(obj, 'mode', path);
  const uidRaw = field(obj, 'uid');
  const gidRaw = field(obj, 'gid');
  if (kind === 'host') {
    if (source === undefined || source === '') fail(join(path, 'source'), 'is required for a host volume');
    if (!source.startsWith('/')) fail(join(path, 'source'), 'must be an absolute path', source);
    if (source.includes('\0')) fail(join(path, 'source'), 'must not contain NUL characters');
    for (const [key, raw] of [['mode', mode], ['uid', uidRaw], ['gid', gidRaw]] as const) {
      if (raw !== undefined) fail(join(path, key), 'must not be set for a host volume');
    }
    vol.source = source;
  } else {
    if (source !== undefined && source !== '') fail(join(path, 'source'), 'must not be set for an empty volume', source);
    if (mode !== undefined && !MODE.test(mode)) fail(join(path, 'mode'), 'must be an octal mode such as 0755', mode);
    vol.mode = mode ?? '0755';
    vol.uid = uidRaw === undefined ? 0 : asInteger(uidRaw, join(path, 'uid'), 0, 4294967295);
    vol.gid = gidRaw === undefined ? 0 : asInteger(gidRaw, join(path, 'gid'), 0, 4294967295);
  }
  if (readOnly !== undefined) vol.readOnly = readOnly;
  if (recursive !== undefined) vol.recursive = recursive;
  return vol;
}

function mount(v: unknown, path: string): Mount {
  const obj = asObject(v, path);
  const m: Mount = {
    volume: checkACName(requiredString(obj, 'volume', path), join(path, 'volume')),
    path: requiredString(obj, 'path', path),
  };
  if (m.path.includes('\0')) fail(join(path, 'path'), 'must not contain NUL characters');
  const appVolume = field(obj, 'appVolume');
  if (appVolume !== undefined) m.appVolume = parseVolume(appVolume, join(path, 'appVolume'));
  return m;
}

function runtimeImage(v: unknown, path: string, allowTemplate: boolean): RuntimeImage {
  const obj = asObject(v, path);
  const idRaw = field(obj, 'id');
  let id = '';
  if (idRaw !== undefined) id = checkImageId(asString(idRaw, join(path, 'id')), join(path, 'id'));
  else if (!allowTemplate) fail(join(path, 'id'), 'is required');
  const image: RuntimeImage = { id, labels: parseLabels(field(obj, 'labels'), join(path, 'labels')) };
  const name = optionalString(obj, 'name', path);
  if (name !== undefined) image.name = checkACIdentifier(name, join(path, 'name'));
  return image;
}

function runtimeApp(v: unknown, path: string, allowTemplate: boolean): RuntimeApp {
  const obj = asObject(v, path);
  const imageRaw = field(obj, 'image');
  if (imageRaw === undefined) fail(join(path, 'image'), 'is required');
  const app: RuntimeApp = {
    name: checkACName(requiredString(obj, 'name', path), join(path, 'name')),
    image: runtimeImage(imageRaw, join(path, 'image'), allowTemplate),
    mounts: arrayField(obj, 'mounts', path, mount),
    annotations: parseAnnotations(field(obj, 'annotations'), join(path, 'annotations')),
  };
  const appSection = field(obj, 'app');
  if (appSection !== undefined) app.app = parseApp(appSection, join(path, 'app'));
  const ro = optionalBoolean(obj, 'readOnlyRootFS', path);
  if (ro !== undefined) app.readOnlyRootFS = ro;
  return app;
}

function exposedPort(v: unknown, path: string): ExposedPort {
  const obj = asObject(v, path);
  const hostPortRaw = field(obj, 'hostPort');
  if (hostPortRaw === undefined) fail(join(path, 'hostPort'), 'is required');
  const port: ExposedPort = {
    name: checkACName(requiredString(obj, 'name', path), join(path, 'name')),
    hostPort: asInteger(hostPortRaw, join(path, 'hostPort'), 1, 65535),
  };
  const hostIP = optionalString(obj, 'hostIP', path);
  if (hostIP !== undefined && hostIP !== '') {
    if (isIP(hostIP) === 0) fail(join(path, 'hostIP'), 'must be an IPv4 or IPv6 address', hostIP);
    port.hostIP = hostIP;
  }
  const podPort = field(obj, 'podPort');
  if (podPort !== undefined) port.podPort = parsePort(podPort, join(path, 'podPort'));
  return port;
}

function optionalStringMap(obj: JsonObject, key: string): Record<string, string> | undefined {
  const v = field(obj, key);
  return v === undefined ? undefined : asStringMap(v, key);
}

function podManifestFrom(value: unknown, opts: ParsePodManifestOptions): PodManifest {
  const obj = asObject(value, '');
  checkKind(obj, 'PodManifest');
  const allowTemplate = opts.allowTemplate ?? false;
  const manifest: PodManifest = {
    acKind: 'PodManifest',
    acVersion: checkSemVer(requiredString(obj, 'acVersion', ''), 'acVersion'),
    apps: arrayField(obj, 'apps', '', (a, p) => runtimeApp(a, p, allowTemplate)),
    volumes: arrayField(obj, 'volumes', '', parseVolume),
    isolators: parseIsolators(field(obj, 'isolators'), 'isolators', false),
    annotations: parseAnnotations(field(obj, 'annotations'), 'annotations'),
    ports: arrayField(obj, 'ports', '', exposedPort),
  };
  assertUnique(manifest.apps, (a) => a.name, 'apps', 'app name');
  assertUnique(manifest.volumes, (v) => v.name, 'volumes', 'volume name');
  const userAnnotations = optionalStringMap(obj, 'userAnnotations');
  const userLabels = optionalStringMap(obj, 'userLabels');
  if (userAnnotations !== undefined) manifest.userAnnotations = userAnnotations;
  if (userLabels !== undefined) manifest.userLabels = userLabels;
  return manifest;
}

/**
 * Parse and validate a pod manifest (JSON text, UTF-8 bytes or a parsed value). Unknown fields are
 * ignored, keys match case-insensitively; errors are RktError('MANIFEST_INVALID', 'invalid pod manifest: ...').
 * Pod-level isolators with unknown names are kept (appc allows them there); app isolators must be known.
 */
export function parsePodManifest(input: unknown, opts: ParsePodManifestOptions = {}): PodManifest {
  return withManifestErrors('pod manifest', () => podManifestFrom(decodeJson(input), opts));
}
