// Snapshot and compare the host state rkt's pod networking may leave behind: rkt-* netns, veth/tap/rkt*
// links and their routes, nft tables rkt-* and the CNI plugins' CNI-* chains/rules (nft and iptables-save), and host-local
// leases of the networks rkt uses. Only rkt-owned names are kept, and anything naming a pod uuid the test
// does not own is ignored, so other tests' pods on the same machine cannot make a comparison fail.
import { execa } from 'execa';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const IPAM_ROOT = '/var/lib/cni/networks';

/** One category of host state as comparable lines. */
export interface HostSnapshot {
  netns: string[];
  links: string[];
  /** Routes through rkt-related links, tagged with the pod netns at the link's other end when known. */
  routes: string[];
  nft: string[];
  iptables: string[];
  leases: string[];
}

export interface SnapshotOptions {
  /** host-local network dirs to read under /var/lib/cni/networks (default: rkt's built-in networks). */
  ipamNetworks?: readonly string[];
}

async function run(cmd: string, args: string[]): Promise<string | undefined> {
  const r = await execa(cmd, args, { reject: false, env: { LC_ALL: 'C' } });
  return r.exitCode === 0 ? String(r.stdout) : undefined;
}

/** veth (ptp/bridge host sides), tap (VM stage1) and rkt-named links, with what varies removed. */
function rktLinks(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)(@\S+)?:\s+<([^>]*)>.*?(link-netns \S+)?\s*$/.exec(line.replace(/\\\s+/g, ' '));
    if (m === null) continue;
    const [, name = '', , , netns] = m;
    if (!/^(veth|tap|rkt)/.test(name) && netns === undefined) continue;
    out.push(netns === undefined ? name : `${name} ${netns}`);
  }
  return out;
}

/** nft: whole rkt-* tables; elsewhere only CNI-* chains and rules that mention CNI- or rkt-. */
function rktNft(text: string): string[] {
  const out: string[] = [];
  let table = '';
  let chain = '';
  for (const raw of text.replace(/counter packets \d+ bytes \d+/g, 'counter').split('\n')) {
    const line = raw.trim();
    if (line === '' || line === '}') continue;
    const t = /^table (\S+ \S+) \{$/.exec(line);
    if (t !== null) {
      table = t[1] ?? '';
      chain = '';
      continue;
    }
    const c = /^chain (\S+) \{$/.exec(line);
    if (c !== null) {
      chain = c[1] ?? '';
      if (chain.startsWith('CNI-') || / rkt-/.test(` ${table.split(' ')[1] ?? ''}`)) out.push(`${table} chain ${chain}`);
      continue;
    }
    if (/ rkt-/.test(` ${table.split(' ')[1] ?? ''}`) || chain.startsWith('CNI-') || /CNI-|rkt-/.test(line)) out.push(`${table} ${chain}: ${line}`);
  }
  return out;
}

/** iptables-save: CNI-* chain declarations and rules mentioning CNI- (the plugins' masquerade and firewall). */
function rktIptables(text: string): string[] {
  let table = '';
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (/CNI-|rkt-/.test(line) && !line.startsWith('#')) out.push(`${table} ${line.replace(/\[\d+:\d+\]/g, '')}`);
  }
  return out;
}

/** Routes (all tables) via veth/tap/rkt* devices; a device whose peer is in a pod netns names that netns. */
function rktRoutes(text: string, links: readonly string[]): string[] {
  const peerNs = new Map<string, string>();
  for (const l of links) {
    const [name, , ns] = l.split(' ');
    if (name !== undefined && ns !== undefined) peerNs.set(name, ns);
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const dev = / dev ((?:veth|tap|rkt)\S*)/.exec(line)?.[1];
    if (dev === undefined) continue;
    const ns = peerNs.get(dev);
    out.push(ns === undefined ? line.trim() : `${line.trim()} [${ns}]`);
  }
  return out;
}

async function rktLeases(networks: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of networks) {
    const files = await readdir(path.join(IPAM_ROOT, n)).catch(() => [] as string[]);
    for (const f of files.sort()) {
      // last_reserved_ip.* and lock are host-local's bookkeeping; a lease file holds the owner's container id
      if (f.startsWith('last_reserved_ip') || f === 'lock') continue;
      const owner = (await readFile(path.join(IPAM_ROOT, n, f), 'utf8').catch(() => '')).split('\n')[0] ?? '';
      out.push(`${n}/${f} ${owner.trim()}`);
    }
  }
  return out;
}

/** The rkt-owned part of the host's network state right now. */
export async function snapshotHost(opts: SnapshotOptions = {}): Promise<HostSnapshot> {
  const netns = (await readdir('/run/netns').catch(() => [] as string[])).filter((n) => n.startsWith('rkt-')).sort();
  const links = rktLinks((await run('ip', ['-o', 'link'])) ?? '').sort();
  return {
    netns,
    links,
    routes: rktRoutes((await run('ip', ['route', 'show', 'table', 'all'])) ?? '', links).sort(),
    nft: rktNft((await run('nft', ['list', 'ruleset'])) ?? '').sort(),
    // iptables-save may be absent (nft-only hosts); its rules then show up in the nft ruleset anyway
    iptables: rktIptables((await run('iptables-save', [])) ?? '').sort(),
    leases: await rktLeases(opts.ipamNetworks ?? ['default', 'default-restricted']),
  };
}

/**
 * Lines to ignore because they belong to pods the test does not own: they name another uuid, or are a
 * CNI-* chain that a foreign pod's rule jumps to (the chain's own lines carry only a hash).
 */
function foreignFilter(s: HostSnapshot, ours: ReadonlySet<string>): (line: string) => boolean {
  const foreign = (line: string): boolean => {
    const ids = line.match(UUID_RE) ?? [];
    return ids.length > 0 && ids.every((id) => !ours.has(id));
  };
  const chains = new Set<string>();
  for (const l of [...s.nft, ...s.iptables]) {
    if (!foreign(l)) continue;
    for (const m of l.matchAll(/(?:jump |-j |-A )(CNI-[A-Za-z0-9]+)/g)) if (m[1] !== undefined) chains.add(m[1]);
  }
  return (line) => foreign(line) || [...chains].some((c) => new RegExp(`(chain |:|-A |jump |-j )${c}\\b`).test(line) || line.includes(` ${c}: `));
}

export interface LeakReport { leaked: string[]; vanished: string[] }

/**
 * What `after` has that `before` did not (leaked) and the reverse (vanished), per category. With `ours`
 * (the uuids of the pods the test ran), lines naming only other pods are ignored on both sides.
 */
export function compareSnapshots(before: HostSnapshot, after: HostSnapshot, ours?: ReadonlySet<string>): LeakReport {
  const report: LeakReport = { leaked: [], vanished: [] };
  const skipBefore = ours === undefined ? () => false : foreignFilter(before, ours);
  const skipAfter = ours === undefined ? () => false : foreignFilter(after, ours);
  for (const k of Object.keys(before) as (keyof HostSnapshot)[]) {
    const b = new Set(before[k].filter((l) => !skipBefore(l)));
    const a = new Set(after[k].filter((l) => !skipAfter(l)));
    for (const l of a) if (!b.has(l)) report.leaked.push(`${k}: ${l}`);
    for (const l of b) if (!a.has(l)) report.vanished.push(`${k}: ${l}`);
  }
  return report;
}

/** A one-paragraph description for assertion messages. */
export function describeLeaks(r: LeakReport): string {
  const parts = [];
  if (r.leaked.length > 0) parts.push(`left behind:\n  ${r.leaked.join('\n  ')}`);
  if (r.vanished.length > 0) parts.push(`removed (was there before):\n  ${r.vanished.join('\n  ')}`);
  return parts.join('\n') || 'no difference';
}

/**
 * compareSnapshots against a fresh snapshot, retried a few times while it differs: another test's pod
 * may be half set up for a moment (a chain without its rule yet), while a real leak stays.
 */
export async function settledLeaks(before: HostSnapshot, ours?: ReadonlySet<string>, opts: SnapshotOptions & { attempts?: number } = {}): Promise<LeakReport> {
  let report = compareSnapshots(before, await snapshotHost(opts), ours);
  for (let i = 1; i < (opts.attempts ?? 5) && (report.leaked.length > 0 || report.vanished.length > 0); i++) {
    await new Promise((r) => setTimeout(r, 500));
    report = compareSnapshots(before, await snapshotHost(opts), ours);
  }
  return report;
}
