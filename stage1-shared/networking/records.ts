// Small pod-dir records networking needs at teardown: which pod and netns (net/pod.json) and whether
// port forwards were installed (net/ports.json). Written before the action they describe.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode, describeCause } from '../../common/errors.js';
import type { PortForward } from '../../common/networking/port-forward.js';
import { netStateDir } from './state.js';

export interface PodRecord { uuid: string; netnsPath: string; pluginDirs: string[] }
export interface PortsRecord { podIP: string; forwards: PortForward[] }

function podRecordPath(podDir: string): string {
  return path.join(netStateDir(podDir), 'pod.json');
}

function portsRecordPath(podDir: string): string {
  return path.join(netStateDir(podDir), 'ports.json');
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RktError('NETWORK', `cannot read network state ${file}: ${describeCause(err)}`);
  }
}

export async function writePodRecord(podDir: string, r: PodRecord): Promise<void> {
  await writeJson(podRecordPath(podDir), r);
}

export async function readPodRecord(podDir: string): Promise<PodRecord | undefined> {
  const file = podRecordPath(podDir);
  const v = (await readJson(file)) as Partial<PodRecord> | undefined;
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || typeof v.uuid !== 'string' || typeof v.netnsPath !== 'string' ||
      !Array.isArray(v.pluginDirs) || !v.pluginDirs.every((d) => typeof d === 'string')) {
    throw new RktError('NETWORK', `cannot read network state ${file}: missing or mistyped fields`);
  }
  return v as PodRecord;
}

export async function markPortsApplied(podDir: string, r: PortsRecord): Promise<void> {
  await writeJson(portsRecordPath(podDir), r);
}

export async function portsWereApplied(podDir: string): Promise<boolean> {
  return (await readJson(portsRecordPath(podDir))) !== undefined;
}

export async function clearPortsRecord(podDir: string): Promise<void> {
  await rm(portsRecordPath(podDir), { force: true });
}
