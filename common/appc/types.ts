// The appc 0.8.11 schema as TypeScript types: what parseImageManifest/parsePodManifest return and the
// serializers accept. Optional JSON lists are always present here (as []), defaults are applied.

import type { Isolator } from './isolators.js';

export type { Isolator } from './isolators.js';

export interface Label {
  name: string;
  value: string;
}

export interface Annotation {
  name: string;
  value: string;
}

export interface Dependency {
  imageName: string;
  imageID?: string;
  labels: Label[];
  /** Size in bytes of the dependency's ACI, when the manifest states it. */
  size?: number;
}

export type EventHandlerName = 'pre-start' | 'post-stop';

export interface EventHandler {
  name: EventHandlerName;
  exec: string[];
}

export interface EnvironmentVariable {
  name: string;
  value: string;
}

export interface MountPoint {
  name: string;
  path: string;
  readOnly: boolean;
}

export interface Port {
  name: string;
  protocol: string;
  port: number;
  /** Number of consecutive ports starting at `port`; at least 1. */
  count: number;
  socketActivated: boolean;
}

export interface App {
  /** May be empty: an image without exec needs one from the pod manifest or the command line. */
  exec: string[];
  user: string;
  group: string;
  supplementaryGIDs: number[];
  eventHandlers: EventHandler[];
  /** Absolute path; "/" when the manifest leaves it out. */
  workingDirectory: string;
  environment: EnvironmentVariable[];
  mountPoints: MountPoint[];
  ports: Port[];
  isolators: Isolator[];
  userAnnotations?: Record<string, string>;
  userLabels?: Record<string, string>;
}

export interface ImageManifest {
  acKind: 'ImageManifest';
  acVersion: string;
  name: string;
  labels: Label[];
  app?: App;
  annotations: Annotation[];
  dependencies: Dependency[];
  pathWhitelist: string[];
}

export type VolumeKind = 'host' | 'empty';

export interface Volume {
  name: string;
  kind: VolumeKind;
  /** Absolute host path; host volumes only. */
  source?: string;
  readOnly?: boolean;
  /** Host volumes only; unset means recursive (rkt's default). */
  recursive?: boolean;
  /** Octal mode string; empty volumes only, defaults to "0755". */
  mode?: string;
  /** Empty volumes only, default 0. */
  uid?: number;
  /** Empty volumes only, default 0. */
  gid?: number;
}

export interface Mount {
  volume: string;
  path: string;
  appVolume?: Volume;
}

export interface RuntimeImage {
  name?: string;
  /** sha512-<hex>; "" only when parsing a template with { allowTemplate: true }. */
  id: string;
  labels: Label[];
}

export interface RuntimeApp {
  name: string;
  image: RuntimeImage;
  /** Replaces the image manifest's app section when present. */
  app?: App;
  readOnlyRootFS?: boolean;
  mounts: Mount[];
  annotations: Annotation[];
}

export interface ExposedPort {
  name: string;
  hostPort: number;
  hostIP?: string;
  podPort?: Port;
}

export interface PodManifest {
  acKind: 'PodManifest';
  acVersion: string;
  apps: RuntimeApp[];
  volumes: Volume[];
  isolators: Isolator[];
  annotations: Annotation[];
  ports: ExposedPort[];
  userAnnotations?: Record<string, string>;
  userLabels?: Record<string, string>;
}
