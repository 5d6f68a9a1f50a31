// Helpers for the networking functional tests: fake pod dirs, TCP listeners/clients inside a netns,
// and a snapshot of the host's network state (links, routes, rules, leases, netns) to compare.
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';

/** Why these tests cannot run here, or undefined when they can. */
export async function netSkipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, CNI plugins)';
  for (const bin of ['/usr/lib/cni/ptp', '/usr/lib/cni/bridge', '/usr/lib/cni/host-local']) {
    try {
      await access(bin, constants.X_OK);
    } catch {
      return `needs ${bin} (apt install containernetworking-plugins)`;
    }
  }
  for (const tool of ['nft', 'ip', 'iptables-save', 'nsenter', 'tc']) {
    const r = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
    if (r.exitCode !== 0) return `needs ${tool}`;
  }
  return undefined;
}

export interface FakePod { uuid: string; podDir: string; root: string; cleanup(): Promise<void> }

// Pods this test process created; host state of any other pod (someone else's rkt on a shared
// machine) is left out of snapshots, so only what our pods leave behind can make them differ.
const ourUuids = new Set<string>();
const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

function foreign(text: string): boolean {
  const ids = text.match(UUID_RE) ?? [];
  return ids.length > 0 && ids.every((id) => !ourUuids.has(id));
}

/** The uuids of the fake pods this test process made (for tests/harness/leak-check's `ours`). */
export function fakePodUuids(): ReadonlySet<string> {
  return ourUuids;
}

/** A temp dir standing in for a pod dir, plus a local-config dir under the same root. */
export async function fakePod(): Promise<FakePod> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'rkt-net-'));
  const uuid = randomUUID();
  ourUuids.add(uuid);
  return { uuid, podDir: root, root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Runs a command inside a netns (by path). */
export async function inNetns(nsPath: string, argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('nsenter', [`--net=${nsPath}`, '--', ...argv], { reject: false, timeout: 20_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const SERVER_JS = `
const net = require('node:net');
const [port, reply] = process.argv.slice(1);
const srv = net.createServer((s) => { s.end(reply + ' from ' + s.remoteAddress); });
srv.listen(Number(port), '0.0.0.0', () => console.log('listening ' + srv.address().port));
`;

const CLIENT_JS = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port), timeout: 5000 });
let out = '';
s.on('data', (d) => { out += d; });
s.on('end', () => { process.stdout.write(out); process.exit(0); });
s.on('timeout', () => { console.error('timeout'); process.exit(3); });
s.on('error', (e) => { console.error(e.message); process.exit(2); });
`;

export interface Listener { port: number; stop(): Promise<void> }

/** A TCP server answering "<reply> from <peer address>" once per connection, inside a netns. */
export async function listenInNetns(nsPath: string, reply: string, port = 0): Promise<Listener> {
  const child: ResultPromise = execa('nsenter', [`--net=${nsPath}`, '--', process.execPath, '-e', SERVER_JS, String(port), reply], { reject: false });
  const bound = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening (\d+)/.exec(buf);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    });
    void child.then((r) => reject(new Error(`listener exited: ${String(r.stderr)}`)));
  });
  return {
    port: bound,
    stop: async () => {
      child.kill('SIGKILL');
      await child;
    },
  };
}

/** Connects from a netns (or from the host when nsPath is undefined) and returns what the server said. */
export async function tcpGet(host: string, port: number, nsPath?: string): Promise<string> {
  const argv = [process.execPath, '-e', CLIENT_JS, host, String(port)];
  const r = nsPath === undefined
    ? await execa(argv[0] ?? 'node', argv.slice(1), { reject: false, timeout: 20_000 })
    : await execa('nsenter', [`--net=${nsPath}`, '--', ...argv], { reject: false, timeout: 20_000 });
  if (r.exitCode !== 0) throw new Error(`tcp ${host}:${port}${nsPath === undefined ? '' : ` from ${nsPath}`} failed: ${String(r.stderr)}`);
  return String(r.stdout);
}

/** A TCP server in this process on the host, answering "<reply> from <peer>". */
export async function hostListener(host: string, reply: string): Promise<Listener & { server: net.Server }> {
  const server = net.createServer((s) => s.end(`${reply} from ${s.remoteAddress ?? '?'}`));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return { port: addr.port, server, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A free TCP port on the host (bound then released). */
export async function freePort(): Promise<number> {
  const l = await hostListener('127.0.0.1', '');
  await l.stop();
  return l.port;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const r = await execa(cmd, args, { reject: false });
  return r.exitCode === 0 ? String(r.stdout) : `<${cmd} failed: ${String(r.stderr)}>`;
}

async function leases(): Promise<string[]> {
  const root = '/var/lib/cni/networks';
  const out: string[] = [];
  let nets: string[] = [];
  try {
    nets = await readdir(root);
  } catch {
    return out;
  }
  for (const n of nets.sort()) {
    for (const f of (await readdir(path.join(root, n))).sort()) {
      // last_reserved_ip.* and lock are host-local's bookkeeping, not leases; a lease holds its container id.
      if (f.startsWith('last_reserved_ip') || f === 'lock') continue;
      const owner = await readFile(path.join(root, n, f), 'utf8').catch(() => '');
      if (!foreign(owner)) out.push(`${n}/${f}`);
    }
  }
  return out;
}

function withoutForeignNftTables(text: string): string {
  const blocks = text.split(/\n(?=table )/);
  return blocks.filter((b) => !foreign(b.split('\n')[0] ?? '')).join('\n');
}

function withoutForeignIptables(text: string): string {
  const lines = text.split('\n');
  const chains = new Set<string>();
  for (const l of lines) {
    if (!foreign(l)) continue;
    for (const m of l.matchAll(/(?:-j|-A) (CNI-[A-Za-z0-9]+)/g)) if (m[1] !== undefined) chains.add(m[1]);
  }
  return lines.filter((l) => !foreign(l) && !(l.startsWith(':') && chains.has(l.slice(1).split(' ')[0] ?? ''))).join('\n');
}

export interface HostNetState { links: string; routes: string; iptables: string; nft: string; leases: string[]; netns: string[] }

/** What a pod's networking may change on the host; equal snapshots mean nothing was left behind. */
export async function hostNetState(): Promise<HostNetState> {
  const linkLines = (await run('ip', ['-o', 'link'])).split('\n');
  // A veth whose peer sits in another pod's netns says so ("link-netns rkt-<uuid>").
  const foreignDevs = linkLines.filter(foreign).map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '');
  const routes = (await run('ip', ['route', 'show', 'table', 'all'])).split('\n')
    .filter((l) => !foreignDevs.some((d) => d !== '' && l.includes(` dev ${d} `)));
  return {
    links: linkLines.filter((l) => !foreign(l)).join('\n'),
    routes: routes.join('\n'),
    iptables: withoutForeignIptables((await run('iptables-save', []))
      .split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n')),
    nft: withoutForeignNftTables((await run('nft', ['list', 'ruleset'])).replace(/counter packets \d+ bytes \d+/g, 'counter')),
    leases: await leases(),
    netns: (await readdir('/run/netns').catch(() => [] as string[])).filter((n) => !foreign(n)).sort(),
  };
}
