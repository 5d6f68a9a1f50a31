// The merged rkt configuration: *.json files of auth.d, paths.d, stage1.d and mirrors.d from the
// system, local and user config directories, later layers overriding earlier ones.
import fs from 'node:fs';
import path from 'node:path';
import { RktError } from '../../common/errors.js';
import type { GlobalOptions } from '../context/global-options.js';

export interface AuthEntry {
  domains: string[];
  type: 'basic' | 'oauth';
  credentials: Record<string, string>;
  source: string;
}

/** rkt's auth.d `dockerAuth` kind: basic credentials for Docker registries (by host[:port]). */
export interface DockerAuthEntry {
  registries: string[];
  credentials: { user: string; password: string };
  source: string;
}

/**
 * Our mirrors.d `registryMirror` kind: images named under these registries are fetched from the mirror
 * (host[:port]) instead, keeping their own names in the store and for signature checks.
 */
export interface RegistryMirrorEntry {
  registries: string[];
  mirror: string;
  source: string;
}

export interface PathsConfig {
  data?: string;
  stage1Images?: string;
}

export interface Stage1Config {
  name?: string;
  version?: string;
  location?: string;
  /** Our extension for the kvm stage1: a different guest kernel. */
  kernel?: string;
}

export interface RktConfig {
  auth: AuthEntry[];
  /** In layer order (system, local, user): a later entry for the same registry wins. */
  dockerAuth: DockerAuthEntry[];
  /** In layer order: a later entry for the same registry wins. */
  registryMirrors: RegistryMirrorEntry[];
  paths: PathsConfig;
  stage1: Stage1Config;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(obj: Record<string, unknown>, key: string, file: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: "${key}" must be a string`);
  }
  return v;
}

function readJsonFiles(dir: string): Array<{ file: string; value: Record<string, unknown> }> {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const out: Array<{ file: string; value: Record<string, unknown> }> = [];
  for (const n of names) {
    const file = path.join(dir, n);
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: not valid JSON`, { cause: err });
    }
    if (!isRecord(parsed)) throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: expected a JSON object`);
    const kind = parsed['rktKind'];
    const version = parsed['rktVersion'];
    if (typeof kind !== 'string' || version !== 'v1') {
      throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: needs "rktKind" and "rktVersion": "v1"`);
    }
    out.push({ file, value: parsed });
  }
  return out;
}

function parseDockerAuth(value: Record<string, unknown>, file: string): DockerAuthEntry {
  const registries = value['registries'];
  const creds = value['credentials'];
  const user = isRecord(creds) ? creds['user'] : undefined;
  const password = isRecord(creds) ? creds['password'] : undefined;
  if (!Array.isArray(registries) || registries.length === 0 || !registries.every((r) => typeof r === 'string' && r !== '') ||
      typeof user !== 'string' || typeof password !== 'string') {
    throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: dockerAuth needs "registries" (a list of hosts) and "credentials" with "user" and "password"`);
  }
  return { registries: registries as string[], credentials: { user, password }, source: file };
}

const HOST_PORT = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;

function parseRegistryMirror(value: Record<string, unknown>, file: string): RegistryMirrorEntry {
  if (value['rktKind'] !== 'registryMirror') throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: rktKind must be "registryMirror" in mirrors.d`);
  const registries = value['registries'];
  const mirror = value['mirror'];
  if (!Array.isArray(registries) || registries.length === 0 || !registries.every((r): r is string => typeof r === 'string' && HOST_PORT.test(r))) {
    throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: "registries" must list registry hosts (host or host:port)`);
  }
  if (typeof mirror !== 'string' || !HOST_PORT.test(mirror)) {
    throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: "mirror" must be a registry host (host or host:port)`);
  }
  return { registries, mirror, source: file };
}

/** The mirror configured for a registry host, if any (the last layer naming it wins). */
export function mirrorFor(cfg: Pick<RktConfig, 'registryMirrors'>, host: string): RegistryMirrorEntry | undefined {
  return cfg.registryMirrors.filter((m) => m.registries.includes(host)).at(-1);
}

export function configLayers(g: Pick<GlobalOptions, 'systemConfig' | 'localConfig' | 'userConfig'>): string[] {
  return [g.systemConfig, g.localConfig, ...(g.userConfig ? [g.userConfig] : [])];
}

export function loadConfig(g: Pick<GlobalOptions, 'systemConfig' | 'localConfig' | 'userConfig'>): RktConfig {
  const cfg: RktConfig = { auth: [], dockerAuth: [], registryMirrors: [], paths: {}, stage1: {} };
  for (const layer of configLayers(g)) {
    for (const { file, value } of readJsonFiles(path.join(layer, 'paths.d'))) {
      if (value['rktKind'] !== 'paths') throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: rktKind must be "paths" in paths.d`);
      const data = str(value, 'data', file);
      const s1 = str(value, 'stage1-images', file);
      if (data !== undefined) cfg.paths.data = data;
      if (s1 !== undefined) cfg.paths.stage1Images = s1;
    }
    for (const { file, value } of readJsonFiles(path.join(layer, 'stage1.d'))) {
      if (value['rktKind'] !== 'stage1') throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: rktKind must be "stage1" in stage1.d`);
      for (const key of ['name', 'version', 'location', 'kernel'] as const) {
        const v = str(value, key, file);
        if (v !== undefined) cfg.stage1[key] = v;
      }
      if (cfg.stage1.location !== undefined && !/^[a-z]+:\/\//.test(cfg.stage1.location) && !path.isAbsolute(cfg.stage1.location)) {
        throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: stage1 location "${cfg.stage1.location}" must be an absolute path or a URL`);
      }
    }
    for (const { file, value } of readJsonFiles(path.join(layer, 'mirrors.d'))) {
      cfg.registryMirrors.push(parseRegistryMirror(value, file));
    }
    for (const { file, value } of readJsonFiles(path.join(layer, 'auth.d'))) {
      if (value['rktKind'] === 'dockerAuth') {
        cfg.dockerAuth.push(parseDockerAuth(value, file));
        continue;
      }
      if (value['rktKind'] !== 'auth') continue;
      const domains = value['domains'];
      const type = value['type'];
      const creds = value['credentials'];
      if (!Array.isArray(domains) || !domains.every((d) => typeof d === 'string') || (type !== 'basic' && type !== 'oauth') || !isRecord(creds)) {
        throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: auth needs "domains", "type" (basic|oauth) and "credentials"`);
      }
      const credentials: Record<string, string> = {};
      for (const [k, v] of Object.entries(creds)) if (typeof v === 'string') credentials[k] = v;
      cfg.auth.push({ domains: domains as string[], type, credentials, source: file });
    }
  }
  return cfg;
}
