// Network configurations: the built-in `default` and `default-restricted`, plus CNI JSON files from
// `<local-config>/net.d/*.conf`, validated with errors that name the file and the fix.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode, describeCause } from '../errors.js';
import { NET_NAME_RE } from './net-list.js';

/** The CNI spec version written into configs that do not say (CNI plugins 1.1.x speak 0.1.0-1.0.0). */
export const DEFAULT_CNI_VERSION = '0.4.0';

/** A validated CNI network config: the fields we need typed, the rest kept verbatim for the plugin. */
export interface NetConf {
  name: string;
  type: string;
  cniVersion: string;
  ipMasq: boolean;
  /** The whole JSON object, exactly what goes to the plugin on stdin. */
  json: Record<string, unknown>;
  /** Where it came from: a file path, or "built-in". */
  source: string;
}

const RESERVED_NAMES = new Set(['host', 'none', 'all']);

// rkt's defaults: `default` is ptp + host-local with masquerade and a default route, so the pod
// reaches the world; `default-restricted` reaches only the host and other pods on it.
const BUILT_INS: ReadonlyArray<Record<string, unknown>> = [
  {
    cniVersion: DEFAULT_CNI_VERSION,
    name: 'default',
    type: 'ptp',
    ipMasq: true,
    ipam: { type: 'host-local', subnet: '172.16.28.0/24', routes: [{ dst: '0.0.0.0/0' }] },
  },
  {
    cniVersion: DEFAULT_CNI_VERSION,
    name: 'default-restricted',
    type: 'ptp',
    ipMasq: false,
    ipam: { type: 'host-local', subnet: '172.31.0.0/16' },
  },
];

function configError(source: string, why: string, hint: string): RktError {
  return new RktError('NETWORK_CONFIG', `invalid network config ${source}: ${why}`, { hint });
}

/** Validates one parsed CNI config object; `source` names it in errors. */
export function validateNetConf(value: unknown, source: string): NetConf {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(source, 'expected a JSON object', 'write a CNI network config: {"cniVersion": "0.4.0", "name": "...", "type": "bridge", ...}');
  }
  const json = value as Record<string, unknown>;
  if (Array.isArray(json['plugins'])) {
    throw configError(source, 'network config lists ("plugins": [...]) are not supported', 'write one plugin per file with a top-level "type"');
  }
  const name = json['name'];
  if (typeof name !== 'string' || name === '') {
    throw configError(source, '"name" is missing or not a string', 'add "name": "<network name>"; it is what --net=<name> selects');
  }
  if (!NET_NAME_RE.test(name)) {
    throw configError(source, `"name" "${name}" must match ${NET_NAME_RE.source}`, 'use letters, digits, "_", "." and "-"');
  }
  if (RESERVED_NAMES.has(name)) {
    throw configError(source, `"name" "${name}" is reserved`, 'host, none and all are special --net values; pick another name');
  }
  const type = json['type'];
  if (typeof type !== 'string' || type === '') {
    throw configError(source, '"type" is missing or not a string', 'add "type": the CNI plugin to run, e.g. "bridge", "ptp", "macvlan" or "ipvlan"');
  }
  if (type.includes('/') || type.startsWith('.')) {
    throw configError(source, `"type" "${type}" is not a plugin name`, 'give the plugin file name in the CNI plugin directory, without a path');
  }
  let cniVersion = json['cniVersion'];
  if (cniVersion === undefined) cniVersion = DEFAULT_CNI_VERSION;
  if (typeof cniVersion !== 'string' || !/^[0-9]+\.[0-9]+\.[0-9]+$/.test(cniVersion)) {
    throw configError(source, `"cniVersion" must be a version string like "${DEFAULT_CNI_VERSION}"`, 'set "cniVersion" to a CNI spec version the plugins support (0.1.0 to 1.0.0)');
  }
  const ipMasq = json['ipMasq'];
  if (ipMasq !== undefined && typeof ipMasq !== 'boolean') {
    throw configError(source, '"ipMasq" must be true or false', 'write "ipMasq": true or remove it');
  }
  const ipam = json['ipam'];
  if (ipam !== undefined && (typeof ipam !== 'object' || ipam === null || Array.isArray(ipam) || typeof (ipam as Record<string, unknown>)['type'] !== 'string')) {
    throw configError(source, '"ipam" must be an object with a "type"', 'e.g. "ipam": {"type": "host-local", "subnet": "10.1.2.0/24"}');
  }
  return { name, type, cniVersion, ipMasq: ipMasq === true, json: { ...json, cniVersion }, source };
}

/** Parses the text of one config file. */
export function parseNetConfText(text: string, source: string): NetConf {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw configError(source, `not valid JSON: ${describeCause(err)}`, 'fix the JSON syntax (a CNI config is one JSON object)');
  }
  return validateNetConf(value, source);
}

/** The net.d directory of a local config dir. */
export function netConfDir(localConfigDir: string): string {
  return path.join(localConfigDir, 'net.d');
}

/**
 * All known networks by name: the built-ins, then every `*.conf` in `<localConfigDir>/net.d`
 * (lexical order). A file may override a built-in name; two files with one name are an error.
 */
export async function loadNetworks(localConfigDir: string | undefined): Promise<Map<string, NetConf>> {
  const nets = new Map<string, NetConf>();
  for (const b of BUILT_INS) {
    const conf = validateNetConf(structuredClone(b), 'built-in');
    nets.set(conf.name, conf);
  }
  if (localConfigDir === undefined) return nets;
  const dir = netConfDir(localConfigDir);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.conf')).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return nets;
    throw new RktError('NETWORK_CONFIG', `cannot read network configs in ${dir}: ${describeCause(err)}`, { cause: err });
  }
  const fromFiles = new Map<string, string>();
  for (const n of names) {
    const file = path.join(dir, n);
    const conf = parseNetConfText(await readFile(file, 'utf8'), file);
    const prev = fromFiles.get(conf.name);
    if (prev !== undefined) {
      throw configError(file, `network "${conf.name}" is already defined in ${prev}`, 'give each network a unique "name" or remove one of the files');
    }
    fromFiles.set(conf.name, file);
    nets.set(conf.name, conf);
  }
  return nets;
}

/** Looks up a requested network, with an error that lists what exists and where to add one. */
export function findNetwork(nets: ReadonlyMap<string, NetConf>, name: string, localConfigDir: string | undefined): NetConf {
  const conf = nets.get(name);
  if (conf !== undefined) return conf;
  const where = localConfigDir === undefined ? '<local-config>/net.d' : netConfDir(localConfigDir);
  throw new RktError('NETWORK_CONFIG', `unknown network "${name}"`, {
    hint: `known networks: ${[...nets.keys()].sort().join(', ')}; define "${name}" in a *.conf file in ${where}`,
  });
}
