// Canonical JSON for manifests: compact, keys in the order of appc's Go structs, optional empty lists
// left out where appc omits them. The result is re-parsed, so we never write a manifest we would reject.

import { parseImageManifest } from './image-manifest.js';
import type { Isolator } from './isolators.js';
import { parsePodManifest } from './pod-manifest.js';
import type {
  Annotation, App, Dependency, ExposedPort, ImageManifest, Label, Mount, PodManifest, Port, RuntimeApp, Volume,
} from './types.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };

/** Drop undefined members so JSON.stringify output is the same whichever way the object was built. */
function obj(entries: { [key: string]: Json | undefined }): Json {
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out[k] = v;
  return out;
}

function nonEmpty<T>(list: readonly T[] | undefined, each: (item: T) => Json): Json | undefined {
  return list === undefined || list.length === 0 ? undefined : list.map(each);
}

const nameValue = (l: Label | Annotation): Json => obj({ name: l.name, value: l.value });

function isolator(i: Isolator): Json {
  // Values are plain JSON data (validated on parse / construction); unknown pod isolators keep theirs verbatim.
  return obj({ name: i.name, value: (i.value ?? null) as Json });
}

function port(p: Port): Json {
  return obj({ name: p.name, protocol: p.protocol, port: p.port, count: p.count, socketActivated: p.socketActivated });
}

function stringMap(m: Readonly<Record<string, string>> | undefined): Json | undefined {
  return m === undefined ? undefined : { ...m };
}

function app(a: App): Json {
  return obj({
    exec: [...a.exec],
    eventHandlers: nonEmpty(a.eventHandlers, (e) => obj({ name: e.name, exec: [...e.exec] })),
    user: a.user,
    group: a.group,
    supplementaryGIDs: nonEmpty(a.supplementaryGIDs, (g) => g),
    workingDirectory: a.workingDirectory === '' ? undefined : a.workingDirectory,
    environment: nonEmpty(a.environment, nameValue),
    mountPoints: nonEmpty(a.mountPoints, (m) => obj({ name: m.name, path: m.path, readOnly: m.readOnly || undefined })),
    ports: nonEmpty(a.ports, port),
    isolators: nonEmpty(a.isolators, isolator),
    userAnnotations: stringMap(a.userAnnotations),
    userLabels: stringMap(a.userLabels),
  });
}

function dependency(d: Dependency): Json {
  return obj({ imageName: d.imageName, imageID: d.imageID, labels: nonEmpty(d.labels, nameValue), size: d.size || undefined });
}

function volume(v: Volume): Json {
  return obj({
    name: v.name, kind: v.kind, source: v.source, readOnly: v.readOnly, recursive: v.recursive,
    mode: v.mode, uid: v.uid, gid: v.gid,
  });
}

function mount(m: Mount): Json {
  return obj({ volume: m.volume, path: m.path, appVolume: m.appVolume === undefined ? undefined : volume(m.appVolume) });
}

function runtimeApp(a: RuntimeApp): Json {
  return obj({
    name: a.name,
    image: obj({ name: a.image.name, id: a.image.id === '' ? undefined : a.image.id, labels: nonEmpty(a.image.labels, nameValue) }),
    app: a.app === undefined ? undefined : app(a.app),
    readOnlyRootFS: a.readOnlyRootFS || undefined,
    mounts: nonEmpty(a.mounts, mount),
    annotations: nonEmpty(a.annotations, nameValue),
  });
}

function exposedPort(p: ExposedPort): Json {
  return obj({
    name: p.name, hostPort: p.hostPort, hostIP: p.hostIP, podPort: p.podPort === undefined ? undefined : port(p.podPort),
  });
}

export function serializeImageManifest(m: ImageManifest): string {
  const text = JSON.stringify(obj({
    acKind: m.acKind,
    acVersion: m.acVersion,
    name: m.name,
    labels: nonEmpty(m.labels, nameValue),
    app: m.app === undefined ? undefined : app(m.app),
    annotations: nonEmpty(m.annotations, nameValue),
    dependencies: nonEmpty(m.dependencies, dependency),
    pathWhitelist: nonEmpty(m.pathWhitelist, (p) => p),
  }));
  parseImageManifest(text);
  return text;
}

/**
 * Pod manifests always carry the volumes/isolators/annotations/ports lists (as [] when empty): the
 * metadata service serves `annotations` and appc's ACE validator tells null and [] apart.
 */
export function serializePodManifest(m: PodManifest): string {
  const text = JSON.stringify(obj({
    acVersion: m.acVersion,
    acKind: m.acKind,
    apps: m.apps.map(runtimeApp),
    volumes: m.volumes.map(volume),
    isolators: m.isolators.map(isolator),
    annotations: m.annotations.map(nameValue),
    ports: m.ports.map(exposedPort),
    userAnnotations: stringMap(m.userAnnotations),
    userLabels: stringMap(m.userLabels),
  }));
  parsePodManifest(text, { allowTemplate: m.apps.some((a) => a.image.id === '') });
  return text;
}
