// The v1alpha messages as this service builds and reads them (proto-loader's JavaScript shapes, see
// stage0/grpc/proto.ts): int64 fields are decimal strings, enums their names, bytes Buffers.

export interface KeyValue {
  key: string;
  value: string;
}

export const POD_STATES = [
  'POD_STATE_UNDEFINED', 'POD_STATE_EMBRYO', 'POD_STATE_PREPARING', 'POD_STATE_PREPARED', 'POD_STATE_RUNNING',
  'POD_STATE_ABORTED_PREPARE', 'POD_STATE_EXITED', 'POD_STATE_DELETING', 'POD_STATE_GARBAGE',
] as const;
export type PodState = (typeof POD_STATES)[number];

export type AppState = 'APP_STATE_UNDEFINED' | 'APP_STATE_RUNNING' | 'APP_STATE_EXITED';
export type ImageType = 'IMAGE_TYPE_UNDEFINED' | 'IMAGE_TYPE_APPC' | 'IMAGE_TYPE_DOCKER' | 'IMAGE_TYPE_OCI';

export const EVENT_TYPES = [
  'EVENT_TYPE_UNDEFINED', 'EVENT_TYPE_POD_PREPARED', 'EVENT_TYPE_POD_PREPARE_ABORTED', 'EVENT_TYPE_POD_STARTED',
  'EVENT_TYPE_POD_EXITED', 'EVENT_TYPE_POD_GARBAGE_COLLECTED', 'EVENT_TYPE_APP_STARTED', 'EVENT_TYPE_APP_EXITED',
  'EVENT_TYPE_IMAGE_IMPORTED', 'EVENT_TYPE_IMAGE_REMOVED',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface ApiImage {
  base_format: { type: ImageType; version: string } | null;
  id: string;
  name: string;
  version: string;
  import_timestamp: string;
  manifest: Buffer;
  size: string;
  annotations: KeyValue[];
  labels: KeyValue[];
}

export interface ApiApp {
  name: string;
  image: ApiImage;
  state: AppState;
  exit_code: number;
  annotations: KeyValue[];
  user_annotations: KeyValue[];
  user_labels: KeyValue[];
}

export interface ApiNetwork {
  name: string;
  ipv4: string;
  ipv6: string;
}

export interface ApiPod {
  id: string;
  pid: number;
  state: PodState;
  apps: ApiApp[];
  networks: ApiNetwork[];
  manifest: Buffer;
  annotations: KeyValue[];
  cgroup: string;
  created_at: string;
  started_at: string;
  gc_marked_at: string;
  user_annotations: KeyValue[];
  user_labels: KeyValue[];
}

export interface ApiEvent {
  type: EventType;
  id: string;
  from: string;
  /** Seconds since the epoch. */
  time: string;
  data: KeyValue[];
}

/** A PodFilter as decoded from a request: absent lists are empty. */
export interface PodFilter {
  ids: string[];
  states: PodState[];
  app_names: string[];
  image_ids: string[];
  network_names: string[];
  annotations: KeyValue[];
  cgroups: string[];
  pod_sub_cgroups: string[];
  user_annotations: KeyValue[];
  user_labels: KeyValue[];
}

/** An ImageFilter as decoded from a request; times in seconds, 0 for no bound. */
export interface ImageFilter {
  ids: string[];
  prefixes: string[];
  base_names: string[];
  keywords: string[];
  labels: KeyValue[];
  imported_after: number;
  imported_before: number;
  annotations: KeyValue[];
  full_names: string[];
}

/** An EventFilter as decoded from a request; times in seconds, 0 for no bound. */
export interface EventFilter {
  types: EventType[];
  ids: string[];
  names: string[];
  since_time: number;
  until_time: number;
}

export const keyValues = (entries: Iterable<{ name: string; value: string }>): KeyValue[] =>
  [...entries].map((e) => ({ key: e.name, value: e.value }));

/** A string map as KeyValues, sorted by key so answers do not depend on insertion order. */
export const recordKeyValues = (r: Record<string, string> | undefined): KeyValue[] =>
  Object.entries(r ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));

/** Nanoseconds since the epoch, as the decimal string an int64 field takes; "0" for unknown. */
export const nsString = (d: Date | undefined): string => (d === undefined ? '0' : (BigInt(d.getTime()) * 1_000_000n).toString());

/** Whole seconds since the epoch, as the decimal string an int64 field takes. */
export const secondsString = (d: Date): string => String(Math.floor(d.getTime() / 1000));
