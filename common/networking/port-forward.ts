// --port=NAME:[HOSTIP:]HOSTPORT: parsing and matching against the image's named ports. Here rather than in
// stage1-shared because stage0 checks the flags too; the nftables rules live in stage1-shared/networking/port-forward-rules.ts.
import { isIPv4 } from 'node:net';
import { RktError } from '../errors.js';
import type { ExposedPort, Port } from '../appc/index.js';
import type { NetSelection } from './net-list.js';

/** A resolved forward: host [hostIP:]hostPort..+count -> pod podPort..+count. */
export interface PortForward {
  name: string;
  protocol: 'tcp' | 'udp';
  hostPort: number;
  hostIP?: string;
  podPort: number;
  count: number;
}

/** What --port says before it is matched to an image port; a sandbox's --port names the pod port itself. */
export interface PortFlag { name: string; hostIP?: string; hostPort: number; podPort?: Port }

/** appc port names: lowercase letters and digits, joined by single - _ or . */
const PORT_NAME = /^[a-z0-9]+([-_.][a-z0-9]+)*$/;

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
  if (!PORT_NAME.test(name)) throw portUsage(`invalid --port "${value}": "${name}" is not a port name (appc names are lowercase)`);
  if (parts.length === 2) return { name, hostPort: parsePortNumber(parts[1] ?? '', value) };
  if (parts.length === 3) {
    const ip = parts[1] ?? '';
    if (!isIPv4(ip)) throw portUsage(`invalid --port "${value}": host IP "${ip}" is not an IPv4 address`);
    return { name, hostIP: ip, hostPort: parsePortNumber(parts[2] ?? '', value) };
  }
  throw portUsage(`invalid --port "${value}": expected NAME:[HOSTIP:]HOSTPORT`);
}

/**
 * `rkt app sandbox --port=NAME:PROTO:PODPORT:HOSTIP:HOSTPORT` (rkt 1.30's form): a sandbox has no app whose
 * port NAME could be, so the flag carries the pod port and protocol itself.
 */
export function parseSandboxPortFlag(value: string): PortFlag {
  const parts = value.split(':');
  const usage = (m: string): RktError => new RktError('NETWORK_CONFIG', `invalid --port "${value}": ${m}`, {
    hint: 'a sandbox takes --port=NAME:PROTO:PODPORT:HOSTIP:HOSTPORT, e.g. --port=http:tcp:80:0.0.0.0:8080',
    exitCode: 2,
  });
  if (parts.length !== 5) throw usage('expected NAME:PROTO:PODPORT:HOSTIP:HOSTPORT');
  const [name = '', proto = '', pod = '', ip = '', host = ''] = parts;
  if (!PORT_NAME.test(name)) throw usage(`"${name}" is not a port name (lowercase letters, digits, - _ .)`);
  if (proto !== 'tcp' && proto !== 'udp') throw usage(`protocol "${proto}" is not tcp or udp`);
  if (!isIPv4(ip)) throw usage(`host IP "${ip}" is not an IPv4 address`);
  const podPort = parsePortNumber(pod, value);
  const f: PortFlag = { name, hostPort: parsePortNumber(host, value), podPort: { name, protocol: proto, port: podPort, count: 1, socketActivated: false } };
  if (ip !== '0.0.0.0') f.hostIP = ip;
  return f;
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
