// What networking records in the pod dir: the netns path, one file per attached network (written before
// the plugin runs, so teardown works after any crash), and net-info.json for list/status.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode, describeCause } from '../../common/errors.js';
import { netInfoPath } from '../../common/pod-layout.js';
import type { ChainPlugin } from './cni-chain.js';
import type { CniRoute } from './cni-result.js';

/** `<podDir>/netns`: the pod's network namespace path + newline (as rkt). */
export function netnsFilePath(podDir: string): string {
  return path.join(podDir, 'netns');
}

/** `<podDir>/net/`: copies of the configs used and the plugin results, one file per network. */
export function netStateDir(podDir: string): string {
  return path.join(podDir, 'net');
}

/** One network attachment as recorded for teardown. */
export interface NetAttachment {
  index: number;
  netName: string;
  ifName: string;
  args: string;
  pluginPath: string;
  /** The network's config as loaded (a single plugin's config, or the config list). */
  conf: Record<string, unknown>;
  /** The plugins in ADD order with what each got on stdin; absent in records written before it was always kept. */
  chain?: ChainPlugin[];
  /** Where the config came from (file path or "built-in"). */
  confSource: string;
  /** The raw ADD result so far (after each plugin of the chain), passed back as prevResult on DEL. */
  result?: unknown;
}

/** One entry of net-info.json: rkt's fields (netName, netConf, pluginPath, ifName, ip, args, mask) plus ours. */
export interface NetInfo {
  netName: string;
  /** Path of the config copy in the pod dir. */
  netConf: string;
  pluginPath: string;
  ifName: string;
  ip: string;
  args: string;
  mask: string;
  prefixLength: number;
  /** The host's address on this network (the gateway CNI gave the pod), if any. */
  hostIP?: string;
  gateway?: string;
  mac?: string;
  routes: CniRoute[];
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
}

export function attachmentFile(podDir: string, index: number, netName: string): string {
  return path.join(netStateDir(podDir), `${String(index).padStart(2, '0')}-${netName}.json`);
}

export async function writeNetnsFile(podDir: string, nsPath: string): Promise<void> {
  await writeAtomic(netnsFilePath(podDir), `${nsPath}\n`);
}

export async function readNetnsFile(podDir: string): Promise<string | undefined> {
  try {
    const s = (await readFile(netnsFilePath(podDir), 'utf8')).trim();
    return s === '' ? undefined : s;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writeAttachment(podDir: string, a: NetAttachment): Promise<string> {
  await mkdir(netStateDir(podDir), { recursive: true, mode: 0o755 });
  const file = attachmentFile(podDir, a.index, a.netName);
  await writeAtomic(file, `${JSON.stringify(a, null, 2)}\n`);
  return file;
}

function parseAttachment(text: string, file: string): NetAttachment {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new RktError('NETWORK', `cannot read network state ${file}: ${describeCause(err)}`);
  }
  const o = v as Partial<NetAttachment> | null;
  if (o === null || typeof o !== 'object' || typeof o.index !== 'number' || typeof o.netName !== 'string' ||
      typeof o.ifName !== 'string' || typeof o.args !== 'string' || typeof o.pluginPath !== 'string' ||
      typeof o.conf !== 'object' || o.conf === null || typeof o.confSource !== 'string') {
    throw new RktError('NETWORK', `cannot read network state ${file}: missing or mistyped fields`);
  }
  if (o.chain !== undefined && (!Array.isArray(o.chain) || !o.chain.every((c: Partial<ChainPlugin> | null) =>
    c !== null && typeof c === 'object' && typeof c.pluginPath === 'string' && typeof c.conf === 'object' && c.conf !== null))) {
    throw new RktError('NETWORK', `cannot read network state ${file}: "chain" must list {pluginPath, conf}`);
  }
  return o as NetAttachment;
}

/** All recorded attachments, in attach order. Unreadable files are reported, not skipped. */
export async function readAttachments(podDir: string): Promise<NetAttachment[]> {
  let names: string[];
  try {
    names = await readdir(netStateDir(podDir));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: NetAttachment[] = [];
  for (const n of names.filter((x) => /^[0-9]{2}-.*\.json$/.test(x)).sort()) {
    const file = path.join(netStateDir(podDir), n);
    out.push(parseAttachment(await readFile(file, 'utf8'), file));
  }
  return out.sort((a, b) => a.index - b.index);
}

export async function removeAttachment(podDir: string, a: NetAttachment): Promise<void> {
  await rm(attachmentFile(podDir, a.index, a.netName), { force: true });
}

export async function writeNetInfo(podDir: string, infos: readonly NetInfo[]): Promise<void> {
  await writeAtomic(netInfoPath(podDir), `${JSON.stringify(infos, null, 2)}\n`);
}

/** Reads net-info.json (for rkt list/status); [] when the pod has none. Never takes a lock. */
export async function readNetInfo(podDir: string): Promise<NetInfo[]> {
  let text: string;
  try {
    text = await readFile(netInfoPath(podDir), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new RktError('POD_INVALID', `invalid ${netInfoPath(podDir)}: ${describeCause(err)}`);
  }
  if (!Array.isArray(v)) throw new RktError('POD_INVALID', `invalid ${netInfoPath(podDir)}: expected a JSON array`);
  return v.map((e: unknown, i) => {
    const o = e as Partial<NetInfo> | null;
    if (o === null || typeof o !== 'object' || typeof o.netName !== 'string' || typeof o.ip !== 'string' || typeof o.ifName !== 'string') {
      throw new RktError('POD_INVALID', `invalid ${netInfoPath(podDir)}: entry ${i} lacks netName/ifName/ip`);
    }
    return { ...o, routes: Array.isArray(o.routes) ? o.routes : [] } as NetInfo;
  });
}

/** Removes what networking wrote in the pod dir (after a complete teardown). */
export async function removeNetState(podDir: string): Promise<void> {
  await rm(netStateDir(podDir), { recursive: true, force: true });
  await rm(netnsFilePath(podDir), { force: true });
}

/** The plugins to DEL for an attachment (records without a chain are a single plugin). */
export function attachmentChain(a: NetAttachment): ChainPlugin[] {
  return a.chain ?? [{ pluginPath: a.pluginPath, conf: a.conf }];
}
