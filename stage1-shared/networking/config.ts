// Network configurations: the built-in `default` and `default-restricted`, plus CNI JSON files from
// `<local-config>/net.d/*.conf` (one plugin) and `*.conflist` (a plugin chain), validated with errors that
// name the file and the fix.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode, describeCause } from '../../common/errors.js';
import { NET_NAME_RE } from '../../common/networking/net-list.js';

/** The CNI spec version written into configs that do not say (CNI plugins 1.1.x speak 0.1.0-1.0.0). */
export const DEFAULT_CNI_VERSION = '0.4.0';

/** A validated CNI network config: the fields we need typed, the rest kept verbatim for the plugin. */
export interface NetConf {
  name: string;
  /** The (first) plugin's type. */
  type: string;
  cniVersion: string;
  ipMasq: boolean;
  /** The whole JSON object: a single plugin's config, or the config list. */
  json: Record<string, unknown>;
  /**
   * What each plugin of the chain gets on stdin (without prevResult), in ADD order: one entry for a
   * single-plugin config (its whole object), one per `plugins` entry of a list (with the list's name and
   * cniVersion).
   */
  plugins: Record<string, unknown>[];
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

function checkPluginFields(p: Record<string, unknown>, source: string, where: string): string {
  const type = p['type'];
  if (typeof type !== 'string' || type === '') {
    throw configError(source, `${where}"type" is missing or not a string`, 'add "type": the CNI plugin to run, e.g. "bridge", "ptp", "macvlan" or "ipvlan"');
  }
  if (type.includes('/') || type.startsWith('.')) {
    throw configError(source, `${where}"type" "${type}" is not a plugin name`, 'give the plugin file name in the CNI plugin directory, without a path');
  }
  const ipMasq = p['ipMasq'];
  if (ipMasq !== undefined && typeof ipMasq !== 'boolean') {
    throw configError(source, `${where}"ipMasq" must be true or false`, 'write "ipMasq": true or remove it');
  }
  const ipam = p['ipam'];
  if (ipam !== undefined && (typeof ipam !== 'object' || ipam === null || Array.isArray(ipam) || typeof (ipam as Record<string, unknown>)['type'] !== 'string')) {
    throw configError(source, `${where}"ipam" must be an object with a "type"`, 'e.g. "ipam": {"type": "host-local", "subnet": "10.1.2.0/24"}');
  }
  return type;
}

/** Validates one parsed CNI config object or config list; `source` names it in errors. */
export function validateNetConf(value: unknown, source: string): NetConf {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(source, 'expected a JSON object', 'write a CNI network config: {"cniVersion": "0.4.0", "name": "...", "type": "bridge", ...}');
  }
  const json = value as Record<string, unknown>;
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
  let cniVersion = json['cniVersion'];
  if (cniVersion === undefined) cniVersion = DEFAULT_CNI_VERSION;
  if (typeof cniVersion !== 'string' || !/^[0-9]+\.[0-9]+\.[0-9]+$/.test(cniVersion)) {
    throw configError(source, `"cniVersion" must be a version string like "${DEFAULT_CNI_VERSION}"`, 'set "cniVersion" to a CNI spec version the plugins support (0.1.0 to 1.0.0)');
  }
  if (json['plugins'] === undefined) {
    const type = checkPluginFields(json, source, '');
    const conf = { ...json, cniVersion };
    return { name, type, cniVersion, ipMasq: json['ipMasq'] === true, json: conf, plugins: [conf], source };
  }
  // A config list: the plugins run in order, each getting the previous one's result.
  const list = json['plugins'];
  if (!Array.isArray(list) || list.length === 0) {
    throw configError(source, '"plugins" must be a non-empty list of plugin configs', 'e.g. "plugins": [{"type": "bridge", ...}, {"type": "portmap", ...}]');
  }
  if (json['type'] !== undefined) {
    throw configError(source, 'a config list has "plugins", not a top-level "type"', 'move the plugin settings into the "plugins" list, or drop "plugins"');
  }
  const plugins = list.map((p: unknown, i): Record<string, unknown> => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw configError(source, `plugins[${i}] must be an object`, 'each entry is one plugin\'s config with a "type"');
    checkPluginFields(p as Record<string, unknown>, source, `plugins[${i}]: `);
    return { ...(p as Record<string, unknown>), name, cniVersion };
  });
  const first = plugins[0] as Record<string, unknown>;
  return { name, type: first['type'] as string, cniVersion, ipMasq: plugins.some((p) => p['ipMasq'] === true), json: { ...json, cniVersion }, plugins, source };
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
 * All known networks by name: the built-ins, then every `*.conf` and `*.conflist` in `<localConfigDir>/net.d`
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
    names = (await readdir(dir)).filter((n) => n.endsWith('.conf') || n.endsWith('.conflist')).sort();
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
