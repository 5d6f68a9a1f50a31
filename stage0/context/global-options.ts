// Global flags, normalized once into a frozen, fully-defaulted object (all defaults live here).
import path from 'node:path';
import { RktError } from '../../common/errors.js';

export type InsecureOption = 'image' | 'tls' | 'http' | 'pubkey' | 'capabilities' | 'paths' | 'seccomp' | 'ondisk';

const INSECURE_GROUPS: Record<string, readonly InsecureOption[]> = {
  none: [],
  image: ['image'],
  tls: ['tls'],
  http: ['http'],
  pubkey: ['pubkey'],
  capabilities: ['capabilities'],
  paths: ['paths'],
  seccomp: ['seccomp'],
  ondisk: ['ondisk'],
  'all-fetch': ['image', 'tls', 'http', 'pubkey'],
  'all-run': ['capabilities', 'paths', 'seccomp'],
  all: ['image', 'tls', 'http', 'pubkey', 'capabilities', 'paths', 'seccomp', 'ondisk'],
};

export interface GlobalOptions {
  readonly dir: string;
  readonly localConfig: string;
  readonly systemConfig: string;
  readonly userConfig: string | undefined;
  readonly debug: boolean;
  readonly insecure: ReadonlySet<InsecureOption>;
  readonly trustKeysFromHttps: boolean;
}

export const GLOBAL_DEFAULTS = {
  dir: '/var/lib/rkt',
  localConfig: '/etc/rkt',
  systemConfig: '/usr/lib/rkt',
} as const;

export function parseInsecureOptions(value: string): Set<InsecureOption> {
  const out = new Set<InsecureOption>();
  for (const raw of value.split(',')) {
    const word = raw.trim().toLowerCase();
    if (word === '') continue;
    const group = INSECURE_GROUPS[word];
    if (!group) {
      throw new RktError('USAGE', `invalid --insecure-options value "${raw}"`, {
        hint: `expected a comma-separated list of ${Object.keys(INSECURE_GROUPS).join(', ')}`,
      });
    }
    for (const g of group) out.add(g);
  }
  return out;
}

export interface RawGlobalFlags {
  dir?: string;
  localConfig?: string;
  systemConfig?: string;
  userConfig?: string;
  debug?: boolean;
  insecureOptions?: string;
  trustKeysFromHttps?: boolean;
}

export function normalizeGlobalOptions(raw: RawGlobalFlags): GlobalOptions {
  return Object.freeze({
    dir: path.resolve(raw.dir ?? process.env['RKT_DIR'] ?? GLOBAL_DEFAULTS.dir),
    localConfig: path.resolve(raw.localConfig ?? GLOBAL_DEFAULTS.localConfig),
    systemConfig: path.resolve(raw.systemConfig ?? GLOBAL_DEFAULTS.systemConfig),
    userConfig: raw.userConfig ? path.resolve(raw.userConfig) : undefined,
    debug: raw.debug === true,
    insecure: parseInsecureOptions(raw.insecureOptions ?? 'none'),
    trustKeysFromHttps: raw.trustKeysFromHttps === true,
  });
}
