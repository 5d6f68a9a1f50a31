// The trusted-key store on disk, in rkt's layout: which key files apply to an image name.
//
//   <config>/trustedkeys/root.d/<fingerprint>                 trusted for every image
//   <config>/trustedkeys/prefix.d/<prefix>/<fingerprint>      trusted for names under <prefix>
//
// <prefix> is an AC identifier used as a nested relative path ("example.com/foo" is the
// directory example.com/foo), exactly as rkt stored it; AC identifiers cannot hold "..",
// empty segments or upper case, so validating the prefix is what makes it a safe path.
// Config layers are read in order system (vendor), local, user: for one location the last
// layer holding a file for a fingerprint decides, and a zero-byte file masks (untrusts)
// the key of an earlier layer.
import fs from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode } from '../../common/errors.js';

export type KeystoreLayerName = 'system' | 'local' | 'user';

export interface KeystoreLayer {
  readonly name: KeystoreLayerName;
  /** A config directory (the one holding trustedkeys/). */
  readonly dir: string;
}

/** Where a key applies: everywhere, or to names under one prefix. */
export type TrustScope = { readonly kind: 'root' } | { readonly kind: 'prefix'; readonly prefix: string };

export interface KeyFileEntry {
  /** Lower-case hex fingerprint, the file's name. */
  readonly fingerprint: string;
  readonly path: string;
  readonly layer: KeystoreLayerName;
  readonly scope: TrustScope;
}

export interface MaskedKey {
  /** The zero-byte file that masks the key. */
  readonly mask: KeyFileEntry;
  /** The key file it masks (from an earlier layer). */
  readonly masked: KeyFileEntry;
}

export interface Keyring {
  readonly trusted: KeyFileEntry[];
  readonly masked: MaskedKey[];
}

const AC_IDENTIFIER = /^[a-z0-9]+(?:[-._~/][a-z0-9]+)*$/;
const FINGERPRINT_FILE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The config layers to read, in precedence order (later wins). */
export function keystoreLayers(g: { systemConfig: string; localConfig: string; userConfig?: string | undefined }): KeystoreLayer[] {
  const layers: KeystoreLayer[] = [
    { name: 'system', dir: g.systemConfig },
    { name: 'local', dir: g.localConfig },
  ];
  if (g.userConfig) layers.push({ name: 'user', dir: g.userConfig });
  return layers;
}

/** Validates a trust prefix (an AC identifier, no scheme) and returns it normalized. */
export function validatePrefix(prefix: string): string {
  const p = prefix.trim().replace(/\/+$/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) {
    throw new RktError('USAGE', `invalid prefix "${prefix}": a prefix must not have a URL scheme`, {
      hint: 'use the image name prefix, e.g. --prefix=example.com/app',
    });
  }
  if (!AC_IDENTIFIER.test(p)) {
    throw new RktError('USAGE', `invalid prefix "${prefix}": not an AC identifier`, {
      hint: 'a prefix is lower-case letters, digits and -._~/ separators, e.g. example.com/app',
    });
  }
  return p;
}

/** The prefix itself and all its parents, longest first: a.com/b/c, a.com/b, a.com. */
export function prefixChain(name: string): string[] {
  const parts = validatePrefix(name).split('/');
  const out: string[] = [];
  for (let i = parts.length; i > 0; i--) out.push(parts.slice(0, i).join('/'));
  return out;
}

export function scopeDir(configDir: string, scope: TrustScope): string {
  const base = path.join(configDir, 'trustedkeys');
  if (scope.kind === 'root') return path.join(base, 'root.d');
  return path.join(base, 'prefix.d', ...validatePrefix(scope.prefix).split('/'));
}

export function describeScope(scope: TrustScope): string {
  return scope.kind === 'root' ? 'root' : `prefix "${scope.prefix}"`;
}

/** Key files directly inside one scope directory of one layer, with their sizes. */
async function listScope(layer: KeystoreLayer, scope: TrustScope): Promise<Array<KeyFileEntry & { size: number }>> {
  const dir = scopeDir(layer.dir, scope);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new RktError('TRUST', `cannot read keystore directory ${dir}: ${code ?? String(err)}`, { cause: err });
  }
  const out: Array<KeyFileEntry & { size: number }> = [];
  for (const n of names.sort()) {
    if (!FINGERPRINT_FILE.test(n)) continue;
    const p = path.join(dir, n);
    const st = await fs.stat(p).catch(() => undefined);
    if (!st?.isFile()) continue;
    out.push({ fingerprint: n, path: p, layer: layer.name, scope, size: st.size });
  }
  return out;
}

/** Resolves one scope across layers: later layers override, zero-byte files mask. */
async function resolveScope(layers: readonly KeystoreLayer[], scope: TrustScope): Promise<Keyring> {
  const current = new Map<string, KeyFileEntry & { size: number }>();
  const masked = new Map<string, MaskedKey>();
  for (const layer of layers) {
    for (const e of await listScope(layer, scope)) {
      const prev = current.get(e.fingerprint);
      if (e.size === 0) {
        if (prev && prev.size > 0) masked.set(e.fingerprint, { mask: strip(e), masked: strip(prev) });
      } else {
        masked.delete(e.fingerprint);
      }
      current.set(e.fingerprint, e);
    }
  }
  const trusted = [...current.values()].filter((e) => e.size > 0).map(strip);
  return { trusted, masked: [...masked.values()] };
}

function strip(e: KeyFileEntry & { size?: number }): KeyFileEntry {
  return { fingerprint: e.fingerprint, path: e.path, layer: e.layer, scope: e.scope };
}

/** All key files trusted for an image name: root keys plus the name's prefix and every parent prefix. */
export async function keyringFor(layers: readonly KeystoreLayer[], name: string): Promise<Keyring> {
  const scopes: TrustScope[] = [{ kind: 'root' }, ...prefixChain(name).map((prefix) => ({ kind: 'prefix' as const, prefix }))];
  const trusted: KeyFileEntry[] = [];
  const masked: MaskedKey[] = [];
  for (const s of scopes) {
    const r = await resolveScope(layers, s);
    trusted.push(...r.trusted);
    masked.push(...r.masked);
  }
  return { trusted, masked };
}

/** Every trusted prefix key file in every layer (for explaining "trusted for another prefix"). */
export async function allPrefixKeys(layers: readonly KeystoreLayer[]): Promise<KeyFileEntry[]> {
  const prefixes = new Set<string>();
  for (const layer of layers) {
    const base = path.join(layer.dir, 'trustedkeys', 'prefix.d');
    const entries = await fs.readdir(base, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const d of entries) {
      if (!d.isDirectory()) continue;
      const rel = path.relative(base, path.join(d.parentPath ?? d.path, d.name)).split(path.sep).join('/');
      if (AC_IDENTIFIER.test(rel)) prefixes.add(rel);
    }
  }
  const out: KeyFileEntry[] = [];
  for (const prefix of [...prefixes].sort()) out.push(...(await resolveScope(layers, { kind: 'prefix', prefix })).trusted);
  return out;
}

/** Writes an armored public key into a config's keystore (dirs 0755, file 0644, atomically). */
export async function writeTrustedKey(configDir: string, scope: TrustScope, fingerprint: string, armored: string): Promise<string> {
  const fp = fingerprint.toLowerCase();
  if (!FINGERPRINT_FILE.test(fp)) throw new RktError('KEY_INVALID', `invalid key fingerprint "${fingerprint}"`);
  const dir = scopeDir(configDir, scope);
  const dest = path.join(dir, fp);
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    const tmp = path.join(dir, `.${fp}.tmp-${process.pid}`);
    await fs.writeFile(tmp, armored, { mode: 0o644 });
    await fs.chmod(tmp, 0o644);
    await fs.rename(tmp, dest);
  } catch (err) {
    throw new RktError('TRUST', `cannot write trusted key ${dest}: ${errnoCode(err) ?? String(err)}`, {
      cause: err,
      hint: 'check that the local config directory (--local-config) is writable',
    });
  }
  return dest;
}
