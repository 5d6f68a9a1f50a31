// Parses a CNI plugin's ADD result (spec 0.1.0-1.0.0) into one normalized, validated shape.
import { isIPv4, isIPv6 } from 'node:net';
import { RktError } from '../../common/errors.js';

export interface CniInterface { name: string; mac?: string; sandbox?: string }
export interface CniIp {
  /** CIDR, e.g. "172.16.28.2/24". */
  address: string;
  gateway?: string;
  /** Index into `interfaces`, when the plugin said. */
  interface?: number;
}
export interface CniRoute { dst: string; gw?: string }
export interface CniDns { nameservers: string[]; domain?: string; search: string[]; options: string[] }
export interface CniResult {
  interfaces: CniInterface[];
  ips: CniIp[];
  routes: CniRoute[];
  dns: CniDns;
}

type Obj = Record<string, unknown>;

function bad(netName: string, why: string): RktError {
  return new RktError('NETWORK', `network "${netName}": invalid CNI plugin result: ${why}`, {
    hint: 'the CNI plugin returned something this rkt cannot read; check the plugin version and the config\'s "cniVersion"',
  });
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCidr(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const [ip, len, extra] = s.split('/');
  if (ip === undefined || len === undefined || extra !== undefined || !/^[0-9]{1,3}$/.test(len)) return false;
  const n = Number(len);
  return (isIPv4(ip) && n <= 32) || (isIPv6(ip) && n <= 128);
}

function isIp(s: unknown): s is string {
  return typeof s === 'string' && (isIPv4(s) || isIPv6(s));
}

function strings(v: unknown, netName: string, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(netName, `${field} must be a list of strings`);
  return v as string[];
}

function parseRoutes(v: unknown, netName: string, field: string): CniRoute[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(netName, `${field} must be a list`);
  return v.map((r, i) => {
    if (!isObj(r) || !isCidr(r['dst'])) throw bad(netName, `${field}[${i}].dst must be a CIDR`);
    if (r['gw'] !== undefined && !isIp(r['gw'])) throw bad(netName, `${field}[${i}].gw must be an IP address`);
    return r['gw'] === undefined ? { dst: r['dst'] } : { dst: r['dst'], gw: r['gw'] as string };
  });
}

function parseDns(v: unknown, netName: string): CniDns {
  if (v === undefined || v === null) return { nameservers: [], search: [], options: [] };
  if (!isObj(v)) throw bad(netName, 'dns must be an object');
  const dns: CniDns = {
    nameservers: strings(v['nameservers'], netName, 'dns.nameservers'),
    search: strings(v['search'], netName, 'dns.search'),
    options: strings(v['options'], netName, 'dns.options'),
  };
  if (typeof v['domain'] === 'string' && v['domain'] !== '') dns.domain = v['domain'];
  return dns;
}

/** Parses the stdout of a successful ADD. */
export function parseCniResult(stdout: string, netName: string): CniResult {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch {
    throw bad(netName, `not JSON: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  if (!isObj(v)) throw bad(netName, 'expected a JSON object');
  const out: CniResult = { interfaces: [], ips: [], routes: [], dns: parseDns(v['dns'], netName) };

  // 0.1.0/0.2.0: {ip4: {ip, gateway, routes}, ip6: {...}}
  for (const key of ['ip4', 'ip6']) {
    const block = v[key];
    if (block === undefined || block === null) continue;
    if (!isObj(block) || !isCidr(block['ip'])) throw bad(netName, `${key}.ip must be a CIDR`);
    if (block['gateway'] !== undefined && !isIp(block['gateway'])) throw bad(netName, `${key}.gateway must be an IP address`);
    const ip: CniIp = { address: block['ip'] };
    if (block['gateway'] !== undefined) ip.gateway = block['gateway'] as string;
    out.ips.push(ip);
    out.routes.push(...parseRoutes(block['routes'], netName, `${key}.routes`));
  }

  // 0.3.0+: {interfaces, ips, routes}
  if (v['interfaces'] !== undefined) {
    if (!Array.isArray(v['interfaces'])) throw bad(netName, 'interfaces must be a list');
    out.interfaces = v['interfaces'].map((x, i) => {
      if (!isObj(x) || typeof x['name'] !== 'string') throw bad(netName, `interfaces[${i}].name must be a string`);
      const itf: CniInterface = { name: x['name'] };
      if (typeof x['mac'] === 'string' && x['mac'] !== '') itf.mac = x['mac'];
      if (typeof x['sandbox'] === 'string' && x['sandbox'] !== '') itf.sandbox = x['sandbox'];
      return itf;
    });
  }
  if (v['ips'] !== undefined) {
    if (!Array.isArray(v['ips'])) throw bad(netName, 'ips must be a list');
    for (const [i, x] of v['ips'].entries()) {
      if (!isObj(x) || !isCidr(x['address'])) throw bad(netName, `ips[${i}].address must be a CIDR`);
      const ip: CniIp = { address: x['address'] };
      if (x['gateway'] !== undefined) {
        if (!isIp(x['gateway'])) throw bad(netName, `ips[${i}].gateway must be an IP address`);
        ip.gateway = x['gateway'];
      }
      if (x['interface'] !== undefined) {
        const idx = x['interface'];
        if (typeof idx !== 'number' || !Number.isInteger(idx) || idx < 0 || idx >= out.interfaces.length) {
          throw bad(netName, `ips[${i}].interface must index interfaces`);
        }
        ip.interface = idx;
      }
      out.ips.push(ip);
    }
    out.routes.push(...parseRoutes(v['routes'], netName, 'routes'));
  }
  return out;
}

/** The first IPv4 address of a result, split into address and prefix length. */
export function firstIPv4(r: CniResult): { ip: string; prefix: number; gateway?: string } | undefined {
  for (const x of r.ips) {
    const [ip, len] = x.address.split('/');
    if (ip !== undefined && len !== undefined && isIPv4(ip)) {
      return x.gateway === undefined ? { ip, prefix: Number(len) } : { ip, prefix: Number(len), gateway: x.gateway };
    }
  }
  return undefined;
}

/** Dotted netmask for an IPv4 prefix length ("255.255.255.0" for 24). */
export function prefixToMask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
}

/** DNS of several networks as one: lists merged in network order without duplicates, the first domain. */
export function mergeCniDns(all: readonly CniDns[]): CniDns {
  const out: CniDns = { nameservers: [], search: [], options: [] };
  for (const d of all) {
    for (const s of d.nameservers) if (!out.nameservers.includes(s)) out.nameservers.push(s);
    for (const s of d.search) if (!out.search.includes(s)) out.search.push(s);
    for (const s of d.options) if (!out.options.includes(s)) out.options.push(s);
    if (out.domain === undefined && d.domain !== undefined) out.domain = d.domain;
  }
  return out;
}
