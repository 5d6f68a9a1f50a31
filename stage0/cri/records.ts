// What the endpoint must remember about a sandbox or container lives in the pod itself: one JSON annotation
// on the pod (sandbox) or on the app (container), written when rkt creates them and read back strictly.
import { unixNanos } from '../pod/timefmt.js';
import type { ContainerMetadata, Mount, NamespaceMode, PodSandboxMetadata, StringMap } from './messages.js';

export const SANDBOX_ANNOTATION = 'rkt-ts/cri/sandbox';
export const CONTAINER_ANNOTATION = 'rkt-ts/cri/container';

export interface SandboxRecord {
  metadata: PodSandboxMetadata;
  labels: StringMap;
  annotations: StringMap;
  logDirectory: string;
  runtimeHandler: string;
  networkMode: NamespaceMode;
  /** Unix nanoseconds, as a decimal string (past 2^53). */
  createdAt: string;
}

export interface ContainerRecord {
  id: string;
  metadata: ContainerMetadata;
  /** The image as the request named it, and the store id it resolved to. */
  image: string;
  imageRef: string;
  labels: StringMap;
  annotations: StringMap;
  /** Absolute path of the CRI log file ('' when kubelet asked for none). */
  logPath: string;
  mounts: Mount[];
  createdAt: string;
}

class RecordError extends Error {}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RecordError(`${what} is not an object`);
  return v as Record<string, unknown>;
}
function str(o: Record<string, unknown>, k: string, what: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new RecordError(`${what}.${k} is not a string`);
  return v;
}
function num(o: Record<string, unknown>, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new RecordError(`${what}.${k} is not an integer`);
  return v;
}
function strMap(o: Record<string, unknown>, k: string, what: string): StringMap {
  const m = obj(o[k], `${what}.${k}`);
  const out: StringMap = {};
  for (const [key, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw new RecordError(`${what}.${k}["${key}"] is not a string`);
    out[key] = v;
  }
  return out;
}
const MODES: readonly NamespaceMode[] = ['POD', 'CONTAINER', 'NODE', 'TARGET'];

function parse(text: string, what: string): Record<string, unknown> {
  try {
    return obj(JSON.parse(text) as unknown, what);
  } catch (err) {
    if (err instanceof RecordError) throw err;
    throw new RecordError(`${what} is not JSON`);
  }
}

/** The record, or an error naming the bad field (a pod edited by hand, or not made by this endpoint). */
export function parseSandboxRecord(text: string): SandboxRecord {
  const o = parse(text, 'sandbox record');
  const m = obj(o['metadata'], 'sandbox record.metadata');
  const mode = str(o, 'networkMode', 'sandbox record');
  if (!(MODES as readonly string[]).includes(mode)) throw new RecordError(`sandbox record.networkMode "${mode}" is not a namespace mode`);
  return {
    metadata: { name: str(m, 'name', 'metadata'), uid: str(m, 'uid', 'metadata'), namespace: str(m, 'namespace', 'metadata'), attempt: num(m, 'attempt', 'metadata') },
    labels: strMap(o, 'labels', 'sandbox record'),
    annotations: strMap(o, 'annotations', 'sandbox record'),
    logDirectory: str(o, 'logDirectory', 'sandbox record'),
    runtimeHandler: str(o, 'runtimeHandler', 'sandbox record'),
    networkMode: mode as NamespaceMode,
    createdAt: str(o, 'createdAt', 'sandbox record'),
  };
}

export function parseContainerRecord(text: string): ContainerRecord {
  const o = parse(text, 'container record');
  const m = obj(o['metadata'], 'container record.metadata');
  const mounts = o['mounts'];
  if (!Array.isArray(mounts)) throw new RecordError('container record.mounts is not a list');
  return {
    id: str(o, 'id', 'container record'),
    metadata: { name: str(m, 'name', 'metadata'), attempt: num(m, 'attempt', 'metadata') },
    image: str(o, 'image', 'container record'),
    imageRef: str(o, 'imageRef', 'container record'),
    labels: strMap(o, 'labels', 'container record'),
    annotations: strMap(o, 'annotations', 'container record'),
    logPath: str(o, 'logPath', 'container record'),
    mounts: mounts.map((x, i) => {
      const mo = obj(x, `container record.mounts[${i}]`);
      return { container_path: str(mo, 'container_path', 'mount'), host_path: str(mo, 'host_path', 'mount'), readonly: mo['readonly'] === true, propagation: str(mo, 'propagation', 'mount') };
    }),
    createdAt: str(o, 'createdAt', 'container record'),
  };
}

/** CRI int64 nanosecond fields, as the decimal strings proto-loader round-trips exactly; 0 for "not yet". */
export const dateNs = (d: Date | undefined): string => (d === undefined ? '0' : unixNanos(d).toString());
export const nowNs = (): string => dateNs(new Date());
