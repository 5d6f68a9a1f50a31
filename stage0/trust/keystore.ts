// The trusted-key store on disk, in rkt's layout: which key files apply to an image name.
//
//   <config>/trustedkeys/root.d/<fingerprint>                 trusted for every image
//   <config>/trustedkeys/prefix.d/<prefix>/<fingerprint>      trusted for names under <prefix>
//   <config>/trustedkeys/…/sigstore-<sha256 of DER>.pem       a sigstore (cosign) public key, same rules
//
// <prefix> is an AC identifier used as a nested relative path ("example.com/foo" is the
// directory example.com/foo), exactly as rkt stored it; AC identifiers cannot hold "..",
// empty segments or upper case, so validating the prefix is what makes it a safe path.
// OCI images are named by docker references (host[:port]/path), which AC identifiers cannot
// express because of the port's colon: such a prefix is validated against the docker grammar
// (which also excludes "..", empty segments and upper case) and its ':' '[' ']' are written
// percent-encoded on disk ("127.0.0.1:5000/acme" is the directory 127.0.0.1%3a5000/acme).
// Neither grammar allows '%', so the encoding is unambiguous and old directories read as before.
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

/** OpenPGP keys (the file is named by the fingerprint) or sigstore PEM keys (sigstore-<id>.pem). */
export type TrustedKeyKind = 'openpgp' | 'sigstore';

export interface KeyFileEntry {
  /** Lower-case hex: the OpenPGP fingerprint, or the sha256 of a sigstore key's DER. */
  readonly fingerprint: string;
  readonly kind: TrustedKeyKind;
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
const SIGSTORE_FILE = /^sigstore-([0-9a-f]{64})\.pem$/;
// A docker reference prefix: a lower-case host (name, IPv4 or [IPv6]) with an optional port, then
// repository components as the distribution spec's grammar allows them.
const DOCKER_HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;
const DOCKER_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** True for prefixes that are AC identifiers (appc discovery can look their keys up). */
export function isAcIdentifier(p: string): boolean {
  return AC_IDENTIFIER.test(p);
}

/** The file name a key of this kind and id has in a scope directory. */
export function keyFileName(kind: TrustedKeyKind, id: string): string {
  return kind === 'openpgp' ? id : `sigstore-${id}.pem`;
}

function parseKeyFileName(name: string): { kind: TrustedKeyKind; id: string } | undefined {
  if (FINGERPRINT_FILE.test(name)) return { kind: 'openpgp', id: name };
  const m = SIGSTORE_FILE.exec(name);
  return m?.[1] ? { kind: 'sigstore', id: m[1] } : undefined;
}

function isDockerPrefix(p: string): boolean {
  const parts = p.split('/');
  const host = parts[0] ?? '';
  if (!DOCKER_HOST.test(host)) return false;
  const port = /:([0-9]+)$/.exec(host)?.[1];
  if (port !== undefined && Number(port) > 65535) return false;
  return parts.slice(1).every((c) => DOCKER_COMPONENT.test(c));
}

/** A validated prefix's on-disk path segments (the docker port colon and IPv6 brackets encoded). */
function prefixSegments(prefix: string): string[] {
  return prefix.split('/').map((seg) => seg.replace(/[:[\]]/g, (c) => `%${c.charCodeAt(0).toString(16)}`));
}

/** Reverses prefixSegments for a directory found on disk; undefined when it is no valid prefix. */
function prefixFromDisk(rel: string): string | undefined {
  const decoded = rel.replace(/%(3a|5b|5d)/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  if (decoded.includes('%')) return undefined;
  try {
    return validatePrefix(decoded) === decoded ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/** The config layers to read, in precedence order (later wins). */
export function keystoreLayers(g: { systemConfig: string; localConfig: string; userConfig?: string | undefined }): KeystoreLayer[] {
  const layers: KeystoreLayer[] = [
    { name: 'system', dir: g.systemConfig },
    { name: 'local', dir: g.localConfig },
  ];
  if (g.userConfig) layers.push({ name: 'user', dir: g.userConfig });
  return layers;
}

/**
 * Validates a trust prefix and returns it normalized: an AC identifier (ACI names), or a docker
 * reference prefix host[:port][/path] without tag or digest (OCI images), never a URL.
 */
export function validatePrefix(prefix: string): string {
  const p = prefix.trim().replace(/\/+$/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) {
    throw new RktError('USAGE', `invalid prefix "${prefix}": a prefix must not have a URL scheme`, {
      hint: 'use the image name prefix, e.g. --prefix=example.com/app (or 127.0.0.1:5000/acme for docker://127.0.0.1:5000/acme/…)',
    });
  }
  if (!AC_IDENTIFIER.test(p) && !isDockerPrefix(p)) {
    throw new RktError('USAGE', `invalid prefix "${prefix}": not an AC identifier or docker reference prefix`, {
      hint: 'a prefix is lower-case letters, digits and -._~/ separators, e.g. example.com/app, or host[:port]/path for OCI images (no tag or digest)',
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
  return path.join(base, 'prefix.d', ...prefixSegments(validatePrefix(scope.prefix)));
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
    const parsed = parseKeyFileName(n);
    if (!parsed) continue;
    const p = path.join(dir, n);
    const st = await fs.stat(p).catch(() => undefined);
    if (!st?.isFile()) continue;
    out.push({ fingerprint: parsed.id, kind: parsed.kind, path: p, layer: layer.name, scope, size: st.size });
  }
  return out;
}

/** Resolves one scope across layers: later layers override, zero-byte files mask. */
async function resolveScope(layers: readonly KeystoreLayer[], scope: TrustScope, kind: TrustedKeyKind): Promise<Keyring> {
  const current = new Map<string, KeyFileEntry & { size: number }>();
  const masked = new Map<string, MaskedKey>();
  for (const layer of layers) {
    for (const e of await listScope(layer, scope)) {
      if (e.kind !== kind) continue;
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
  return { fingerprint: e.fingerprint, kind: e.kind, path: e.path, layer: e.layer, scope: e.scope };
}

/**
 * All key files of one kind trusted for an image name: root keys plus the name's prefix and every
 * parent prefix. `name` is an AC name or a docker reference without tag or digest (host[:port]/repo).
 */
export async function keyringFor(layers: readonly KeystoreLayer[], name: string, kind: TrustedKeyKind = 'openpgp'): Promise<Keyring> {
  const scopes: TrustScope[] = [{ kind: 'root' }, ...prefixChain(name).map((prefix) => ({ kind: 'prefix' as const, prefix }))];
  const trusted: KeyFileEntry[] = [];
  const masked: MaskedKey[] = [];
  for (const s of scopes) {
    const r = await resolveScope(layers, s, kind);
    trusted.push(...r.trusted);
    masked.push(...r.masked);
  }
  return { trusted, masked };
}

/** Every prefix with a directory in some layer's prefix.d, decoded (docker ports) and sorted. */
export async function allPrefixes(layers: readonly KeystoreLayer[]): Promise<string[]> {
  const prefixes = new Set<string>();
  for (const layer of layers) {
    const base = path.join(layer.dir, 'trustedkeys', 'prefix.d');
    const entries = await fs.readdir(base, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const d of entries) {
      if (!d.isDirectory()) continue;
      const rel = path.relative(base, path.join(d.parentPath ?? d.path, d.name)).split(path.sep).join('/');
      const prefix = prefixFromDisk(rel);
      if (prefix !== undefined) prefixes.add(prefix);
    }
  }
  return [...prefixes].sort();
}

/** Every trusted prefix key file of one kind in every layer (for explaining "trusted for another prefix"). */
export async function allPrefixKeys(layers: readonly KeystoreLayer[], kind: TrustedKeyKind = 'openpgp'): Promise<KeyFileEntry[]> {
  const out: KeyFileEntry[] = [];
  for (const prefix of await allPrefixes(layers)) out.push(...(await resolveScope(layers, { kind: 'prefix', prefix }, kind)).trusted);
  return out;
}

/**
 * Writes a public key into a config's keystore (dirs 0755, file 0644, atomically): an armored
 * OpenPGP key named by its fingerprint, or (kind sigstore) a PEM key named by its DER's sha256.
 */
export async function writeTrustedKey(configDir: string, scope: TrustScope, fingerprint: string, armored: string, kind: TrustedKeyKind = 'openpgp'): Promise<string> {
  const fp = fingerprint.toLowerCase();
  if (!FINGERPRINT_FILE.test(fp) || (kind === 'sigstore' && fp.length !== 64)) throw new RktError('KEY_INVALID', `invalid key fingerprint "${fingerprint}"`);
  const dir = scopeDir(configDir, scope);
  const name = keyFileName(kind, fp);
  const dest = path.join(dir, name);
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    const tmp = path.join(dir, `.${name}.tmp-${process.pid}`);
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
