// Socket activation, as rkt had it: an app port marked socketActivated gets a socket unit of the pod's
// systemd, which hands the listening socket to the app (sd_listen_fds: LISTEN_FDS, LISTEN_FDNAMES). When
// `rkt run` itself was started by a host socket unit, the sockets it inherited (same protocol, the run
// entrypoint is still the process systemd started) reach the pod's systemd, which adopts a passed socket
// for the unit whose address is that socket's exact address. So the unit is written with the address read
// back from the kernel, and each passed socket is matched to a port by its name (the host unit's
// FileDescriptorName=, equal to the port name); a socket that fits no port is an error, never ignored.
import fs from 'node:fs';
import type { Port } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
export { passedSocketFds } from '../../common/listen-fds.js';
import { appServiceName, renderUnit, type UnitProperty } from './unit-file.js';

export interface PassedSocket {
  fd: number;
  /** From LISTEN_FDNAMES; undefined when the manager named none ("unknown" counts as none). */
  name?: string;
  datagram: boolean;
  /** The listening address as a socket unit spells it: 127.0.0.1:80, [::]:80, /run/x.sock, @abstract. */
  address: string;
}

export interface ActivatedPort {
  app: string;
  port: Port;
  /** The host's socket for this port; absent: the pod's systemd listens in the pod itself. */
  passed?: PassedSocket;
}

function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

/** /proc/net/tcp6 prints the 16 bytes as four host-order (little-endian) 32-bit words; systemd reads the long form. */
function ipv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

function inetEntry(table: string, inode: string, v6: boolean): string | undefined {
  const text = fs.readFileSync(table, 'utf8');
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[9] !== inode) continue;
    const [addr, port] = (f[1] ?? '').split(':');
    if (addr === undefined || port === undefined) return undefined;
    const p = Number.parseInt(port, 16);
    return v6 ? `[${ipv6(addr)}]:${p}` : `${ipv4(addr)}:${p}`;
  }
  return undefined;
}

function unixEntry(inode: string): { address: string; datagram: boolean } | undefined {
  for (const line of fs.readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[6] !== inode || f[7] === undefined) continue;
    return { address: f[7], datagram: f[4] === '0002' };
  }
  return undefined;
}

/** Reads a passed descriptor's kind and bound address back from the kernel (this process's network namespace). */
export function describePassedSocket(s: { fd: number; name?: string }): PassedSocket {
  const what = `socket fd ${s.fd}${s.name !== undefined ? ` ("${s.name}")` : ''} passed by the service manager`;
  let link: string;
  try {
    link = fs.readlinkSync(`/proc/self/fd/${s.fd}`);
  } catch {
    throw new RktError('USAGE', `${what} is not open`, { hint: 'LISTEN_FDS counts more descriptors than rkt received', exitCode: 254 });
  }
  const inode = /^socket:\[([0-9]+)\]$/.exec(link)?.[1];
  if (inode === undefined) throw new RktError('USAGE', `${what} is not a socket (${link})`, { exitCode: 254 });
  const base = s.name !== undefined ? { fd: s.fd, name: s.name } : { fd: s.fd };
  for (const [table, v6, datagram] of [['/proc/net/tcp', false, false], ['/proc/net/tcp6', true, false], ['/proc/net/udp', false, true], ['/proc/net/udp6', true, true]] as const) {
    const address = inetEntry(table, inode, v6);
    if (address !== undefined) return { ...base, datagram, address };
  }
  const unix = unixEntry(inode);
  if (unix !== undefined) return { ...base, ...unix };
  throw new RktError('USAGE', `${what} is neither a TCP/UDP nor a named unix socket`, { hint: 'socket-activated ports take stream and datagram sockets', exitCode: 254 });
}

/**
 * Every socket-activated port of the pod's apps, each with the passed socket named after it. With unnamed
 * sockets, one socket and one port pair up; anything else that does not pair is refused.
 */
export function assignSockets(apps: readonly { name: string; ports: readonly Port[] }[], passed: readonly PassedSocket[]): ActivatedPort[] {
  const ports: ActivatedPort[] = apps.flatMap((a) => a.ports.filter((p) => p.socketActivated).map((port) => ({ app: a.name, port })));
  const portNames = ports.map((p) => `${p.app}/${p.port.name}`).join(', ') || 'none';
  const unnamedPair = passed.length === 1 && ports.length === 1 && passed[0]?.name === undefined;
  for (const s of passed) {
    const fits = unnamedPair ? ports : ports.filter((p) => p.port.name === s.name);
    const target = fits[0];
    if (target === undefined) {
      throw new RktError('USAGE', `the socket ${s.name !== undefined ? `named "${s.name}"` : `fd ${s.fd} (unnamed)`} passed by the service manager matches no socket-activated port (ports: ${portNames})`, {
        hint: 'name each socket after its port: FileDescriptorName=<port name> in the host socket unit', exitCode: 254,
      });
    }
    if (fits.length > 1) throw new RktError('USAGE', `the socket named "${s.name ?? ''}" fits ports of several apps (${fits.map((p) => p.app).join(', ')}): port names must be unique to be socket-activated`, { exitCode: 254 });
    if (target.passed !== undefined) throw new RktError('USAGE', `two sockets passed for port ${target.port.name} of app ${target.app}`, { exitCode: 254 });
    const wantDatagram = target.port.protocol === 'udp';
    if (s.datagram !== wantDatagram) throw new RktError('USAGE', `the socket for port ${target.port.name} of app ${target.app} is ${s.datagram ? 'a datagram' : 'a stream'} socket, the port is ${target.port.protocol}`, { exitCode: 254 });
    target.passed = s;
  }
  return ports;
}

/**
 * The pod's systemd hands passed sockets out only to units it has loaded when it starts, before it reads
 * its default target, and closes the rest. The root mount's unit is loaded then (systemd makes one for
 * every mount), and what it Wants= with it: so a drop-in there gets the socket units loaded in time.
 */
export function earlySocketLoader(units: readonly string[]): { path: string; content: string } {
  return {
    path: 'etc/systemd/system/-.mount.d/50-rkt-passed-sockets.conf',
    content: renderUnit('loads the units of the sockets rkt was passed before the pod\'s systemd hands them out, generated by rkt', {
      Unit: units.map((u): UnitProperty => ['Wants', u]),
    }),
  };
}

export function socketUnitName(app: string, port: string): string {
  return `rkt-socket-${app}-${port}.socket`;
}

export function socketUnit(p: ActivatedPort): string {
  const listen = p.port.protocol === 'udp' ? 'ListenDatagram' : 'ListenStream';
  const socket: UnitProperty[] = [
    [listen, p.passed?.address ?? String(p.port.port)],
    ['FileDescriptorName', p.port.name],
    ['Service', appServiceName(p.app)],
  ];
  return renderUnit(`socket of port ${p.port.name} of app ${p.app}, generated by rkt`, {
    Unit: [['Description', `rkt app ${p.app} port ${p.port.name}`], ['DefaultDependencies', 'no'], ['Before', appServiceName(p.app)]],
    Socket: socket,
  });
}
