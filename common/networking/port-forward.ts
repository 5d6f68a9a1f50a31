// --port=NAME:[HOSTIP:]HOSTPORT: parsing, matching against the image's named ports, and the per-pod
// nftables table that DNATs host ports to the pod (from other hosts, from the host, and from 127.0.0.1).
import { isIPv4 } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { RktError } from '../errors.js';
import type { ExposedPort, Port } from '../appc/index.js';
import type { NetSelection } from './net-list.js';
import { parseIpJson, tool } from './sys.js';

/** A resolved forward: host [hostIP:]hostPort..+count -> pod podPort..+count. */
export interface PortForward {
  name: string;
  protocol: 'tcp' | 'udp';
  hostPort: number;
  hostIP?: string;
  podPort: number;
  count: number;
}

/** What --port says before it is matched to an image port. */
export interface PortFlag { name: string; hostIP?: string; hostPort: number }

function portUsage(message: string): RktError {
  return new RktError('NETWORK_CONFIG', message, {
    hint: 'write --port=NAME:[HOSTIP:]HOSTPORT where NAME is a port named in the image manifest, e.g. --port=http:8080 or --port=http:127.0.0.1:8080',
    exitCode: 2,
  });
}

function parsePortNumber(s: string, flag: string): number {
  if (!/^[0-9]{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) throw portUsage(`invalid --port "${flag}": host port "${s}" must be 1-65535`);
  return Number(s);
}

/** Parses one --port value. Only IPv4 host addresses are supported. */
export function parsePortFlag(value: string): PortFlag {
  const parts = value.split(':');
  const name = parts[0] ?? '';
  if (!/^[a-z0-9]+([-_.][a-z0-9]+)*$/.test(name)) throw portUsage(`invalid --port "${value}": "${name}" is not a port name (appc names are lowercase)`);
  if (parts.length === 2) return { name, hostPort: parsePortNumber(parts[1] ?? '', value) };
  if (parts.length === 3) {
    const ip = parts[1] ?? '';
    if (!isIPv4(ip)) throw portUsage(`invalid --port "${value}": host IP "${ip}" is not an IPv4 address`);
    return { name, hostIP: ip, hostPort: parsePortNumber(parts[2] ?? '', value) };
  }
  throw portUsage(`invalid --port "${value}": expected NAME:[HOSTIP:]HOSTPORT`);
}

/** Forwards make sense only when the pod has its own address. */
export function checkPortsAllowed(sel: NetSelection, ports: readonly unknown[]): void {
  if (ports.length > 0 && sel.kind !== 'cni') {
    throw new RktError('NETWORK_CONFIG', `--port cannot be used with --net=${sel.kind}`, {
      hint: sel.kind === 'host' ? 'the pod already uses the host\'s ports; drop --port' : 'a pod without networks has nothing to forward to; use --net=default',
      exitCode: 2,
    });
  }
}

/**
 * Matches the pod manifest's exposed ports (what --port became) to the apps' named ports.
 * `podPort` on an exposed port wins (it is what stage0 resolved); else the name is looked up.
 */
export function resolvePortForwards(exposed: readonly ExposedPort[], appPorts: readonly Port[]): PortForward[] {
  const seen = new Set<string>();
  return exposed.map((e) => {
    const p = e.podPort ?? appPorts.find((x) => x.name === e.name);
    if (p === undefined) {
      throw new RktError('NETWORK_CONFIG', `cannot forward port "${e.name}": no app in the pod has a port with that name`, {
        hint: `ports the apps declare: ${appPorts.map((x) => x.name).join(', ') || 'none'}`,
      });
    }
    if (p.protocol !== 'tcp' && p.protocol !== 'udp') {
      throw new RktError('NETWORK_CONFIG', `cannot forward port "${e.name}": protocol "${p.protocol}" is not tcp or udp`);
    }
    if (e.hostPort + p.count - 1 > 65535) throw new RktError('NETWORK_CONFIG', `cannot forward port "${e.name}": host ports ${e.hostPort}+${p.count} go past 65535`);
    for (let i = 0; i < p.count; i++) {
      const key = `${p.protocol}/${e.hostIP ?? '*'}/${e.hostPort + i}`;
      if (seen.has(key)) throw new RktError('NETWORK_CONFIG', `cannot forward port "${e.name}": host port ${p.protocol} ${e.hostPort + i} is forwarded twice`);
      seen.add(key);
    }
    const f: PortForward = { name: e.name, protocol: p.protocol, hostPort: e.hostPort, podPort: p.port, count: p.count };
    if (e.hostIP !== undefined) f.hostIP = e.hostIP;
    return f;
  });
}

/** The pod's own nftables table; deleting it removes every rule the pod added, and nothing else. */
export function portForwardTable(uuid: string): string {
  return `rkt-${uuid}`;
}

function range(first: number, count: number): string {
  return count === 1 ? String(first) : `${first}-${first + count - 1}`;
}

/** The nft script that creates the pod's table (pure, unit-tested). */
export function buildPortForwardRuleset(uuid: string, podIP: string, forwards: readonly PortForward[]): string {
  const t = portForwardTable(uuid);
  const pre: string[] = [];
  const post: string[] = [];
  for (const f of forwards) {
    // Any local address (fib ... type local) unless the user pinned one host IP.
    const match = f.hostIP === undefined ? 'fib daddr type local' : `ip daddr ${f.hostIP}`;
    // One rule per port: nft's "dnat to ip:a-b" picks any port in the range, it does not map 1:1.
    for (let i = 0; i < f.count; i++) {
      pre.push(`    ${match} ${f.protocol} dport ${f.hostPort + i} dnat to ${podIP}:${f.podPort + i}`);
    }
    // Connections from 127.0.0.1 keep that source after DNAT; the pod could not answer it, so rewrite it.
    post.push(`    ip saddr 127.0.0.0/8 ip daddr ${podIP} ${f.protocol} dport ${range(f.podPort, f.count)} masquerade`);
  }
  return [
    `table ip ${t} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...pre,
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...pre,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...post,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Host interface the kernel uses to reach the pod (ptp: the pod's host veth; bridge: the bridge). */
async function hostDevToward(podIP: string): Promise<string | undefined> {
  const res = await tool('ip', ['-j', 'route', 'get', podIP]);
  const routes = parseIpJson(res.stdout, `the route to ${podIP}`);
  const dev = (routes[0] as { dev?: unknown } | undefined)?.dev;
  return typeof dev === 'string' ? dev : undefined;
}

/** Installs the pod's table. 127.0.0.1 traffic needs route_localnet on the interface toward the pod. */
export async function applyPortForwards(uuid: string, podIP: string, forwards: readonly PortForward[]): Promise<void> {
  if (forwards.length === 0) return;
  const dev = await hostDevToward(podIP);
  if (dev !== undefined && /^[A-Za-z0-9_.@-]+$/.test(dev) && dev !== 'lo') {
    await writeFile(`/proc/sys/net/ipv4/conf/${dev}/route_localnet`, '1');
  }
  await removePortForwards(uuid);
  await tool('nft', ['-f', '-'], { input: buildPortForwardRuleset(uuid, podIP, forwards) });
}

/** Deletes the pod's table; a missing table is fine (the "add then delete" idiom makes it idempotent). */
export async function removePortForwards(uuid: string): Promise<void> {
  const t = portForwardTable(uuid);
  await tool('nft', ['-f', '-'], { input: `add table ip ${t}\ndelete table ip ${t}\n` });
}
