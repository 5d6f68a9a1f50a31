// Registry credentials: rkt's auth.d `dockerAuth` entries first, then the `auths` of Docker's
// config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json), so people who already ran
// `docker login` or `podman login --authfile` need no rkt-specific setup. Credential helpers
// (credsStore/credHelpers) and identity tokens are not read.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RktError } from '../../../common/errors.js';
import type { DockerAuthEntry } from '../../config/config.js';
import { DOCKER_HUB_API_HOST, DOCKER_HUB_NAME } from '../reference.js';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface FoundCredentials extends Credentials {
  /** Where they came from (a file path), for debug messages: never the secret itself. */
  readonly source: string;
}

export interface CredentialsEnv {
  readonly HOME?: string | undefined;
  readonly DOCKER_CONFIG?: string | undefined;
}

const HUB_ALIASES = [DOCKER_HUB_NAME, DOCKER_HUB_API_HOST, 'index.docker.io', 'registry.hub.docker.com'];

/** "https://Host:5000/v1/" and "host:5000" both name host:5000. */
export function normalizeRegistryKey(key: string): string {
  let k = key.trim().toLowerCase();
  k = k.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  return k;
}

function sameRegistry(a: string, b: string): boolean {
  const x = normalizeRegistryKey(a);
  const y = normalizeRegistryKey(b);
  if (x === y) return true;
  return HUB_ALIASES.includes(x) && HUB_ALIASES.includes(y);
}

export function dockerConfigPath(env: CredentialsEnv): string {
  if (env.DOCKER_CONFIG) return path.join(env.DOCKER_CONFIG, 'config.json');
  return path.join(env.HOME || os.homedir(), '.docker', 'config.json');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalidDockerConfig(file: string, why: string): RktError {
  return new RktError('CONFIG_INVALID', `invalid Docker config ${file}: ${why}`, {
    hint: 'fix or remove the file, or give rkt the credentials in auth.d (rktKind "dockerAuth")',
  });
}

/** Credentials for `host` from one Docker config.json, or undefined when it has none (or no file). */
export function dockerConfigCredentials(host: string, file: string): FoundCredentials | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidDockerConfig(file, 'not valid JSON');
  }
  if (!isRecord(parsed)) throw invalidDockerConfig(file, 'expected a JSON object');
  const auths = parsed['auths'];
  if (auths === undefined) return undefined;
  if (!isRecord(auths)) throw invalidDockerConfig(file, '"auths" must be an object');
  // An exact key beats an alias (docker.io vs index.docker.io), whatever the file's order.
  const keys = Object.keys(auths).sort((a, b) => Number(normalizeRegistryKey(b) === normalizeRegistryKey(host)) - Number(normalizeRegistryKey(a) === normalizeRegistryKey(host)));
  for (const key of keys) {
    if (!sameRegistry(key, host)) continue;
    const entry = auths[key];
    if (!isRecord(entry)) throw invalidDockerConfig(file, `auths["${key}"] must be an object`);
    const auth = entry['auth'];
    if (typeof auth === 'string' && auth !== '') {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw invalidDockerConfig(file, `auths["${key}"].auth is not base64 of "user:password"`);
      return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: file };
    }
    const user = entry['username'];
    const password = entry['password'];
    if (typeof user === 'string' && typeof password === 'string' && user !== '') return { user, password, source: file };
  }
  return undefined;
}

/**
 * The credentials to use for a registry host (host[:port] as in the image reference). auth.d wins over
 * the Docker config; among auth.d entries the last one wins, as later config layers override earlier.
 */
export function credentialsFor(host: string, cfgAuth: readonly DockerAuthEntry[], env: CredentialsEnv): FoundCredentials | undefined {
  for (let i = cfgAuth.length - 1; i >= 0; i--) {
    const e = cfgAuth[i];
    if (e && e.registries.some((r) => sameRegistry(r, host))) return { ...e.credentials, source: e.source };
  }
  return dockerConfigCredentials(host, dockerConfigPath(env));
}
