// containers' registries.d: where "lookaside" storage keeps the OpenPGP simple signatures of a
// registry's images. Each directory holds *.yaml files:
//
//   default-docker: {lookaside: URL}
//   docker:
//     registry.example.com:5000/team: {lookaside: URL, lookaside-staging: URL, use-sigstore-attachments: true}
//
// (`sigstore` / `sigstore-staging` are the older names of `lookaside` / `lookaside-staging`). The
// most specific namespace that sets a lookaside wins: the full reference, then the repository and
// its parents, the host, `*.domain` wildcards, then default-docker. Within one directory a namespace set in two files is
// an error (as containers/image has it); across directories a later one (rkt's local, then user
// config) overrides an earlier one, so tests and users can add lookasides without editing /etc.
// Only the read location matters here: rkt never writes signatures.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RktError, errnoCode } from '../../../common/errors.js';
import { formatDockerReference, type DockerReference } from '../reference.js';

export const CONTAINERS_REGISTRIES_D = '/etc/containers/registries.d';

const MAX_CONFIG_BYTES = 1024 * 1024;

export interface RegistryNamespaceConfig {
  /** The read location, a file://, https:// or http:// URL, when set. */
  readonly lookaside?: string;
  readonly useSigstoreAttachments?: boolean;
  /** The file that set it (for messages). */
  readonly source: string;
}

export interface RegistriesD {
  readonly defaultDocker?: RegistryNamespaceConfig;
  readonly docker: ReadonlyMap<string, RegistryNamespaceConfig>;
}

/** containers' directory first, then `<rkt config dir>/registries.d` of each rkt config layer in order. */
export function registriesDirs(rktConfigDirs: readonly string[]): string[] {
  return [CONTAINERS_REGISTRIES_D, ...rktConfigDirs.map((d) => path.join(d, 'registries.d'))];
}

function bad(file: string, why: string): RktError {
  return new RktError('CONFIG_INVALID', `invalid registries.d configuration ${file}: ${why}`, {
    hint: 'see containers-registries.d(5): default-docker: {lookaside: URL} and docker: {"host/repo": {lookaside: URL}}',
  });
}

function parseNamespace(v: unknown, file: string, where: string): RegistryNamespaceConfig {
  if (v === null || v === undefined) return { source: file };
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(file, `${where} must be a mapping`);
  const o = v as Record<string, unknown>;
  const url = (key: string): string | undefined => {
    const u = o[key];
    if (u === undefined || u === null) return undefined;
    if (typeof u !== 'string' || u === '') throw bad(file, `${where}.${key} must be a URL`);
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw bad(file, `${where}.${key} ${JSON.stringify(u)} is not a URL`);
    }
    if (!['file:', 'http:', 'https:'].includes(parsed.protocol)) throw bad(file, `${where}.${key} must be a file://, https:// or http:// URL`);
    return u;
  };
  const lookaside = url('lookaside') ?? url('sigstore');
  // Staging locations are where signers write; they are validated but never read from.
  url('lookaside-staging');
  url('sigstore-staging');
  const attach = o['use-sigstore-attachments'];
  if (attach !== undefined && attach !== null && typeof attach !== 'boolean') throw bad(file, `${where}.use-sigstore-attachments must be true or false`);
  return { ...(lookaside !== undefined ? { lookaside } : {}), ...(typeof attach === 'boolean' ? { useSigstoreAttachments: attach } : {}), source: file };
}

async function readDir(dir: string): Promise<Array<{ file: string; text: string }>> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.yaml')).sort();
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new RktError('CONFIG_INVALID', `cannot read registries.d directory ${dir}: ${code ?? String(err)}`, { cause: err });
  }
  const out: Array<{ file: string; text: string }> = [];
  for (const n of names) {
    const file = path.join(dir, n);
    const st = await fs.stat(file).catch(() => undefined);
    if (!st?.isFile()) continue;
    if (st.size > MAX_CONFIG_BYTES) throw bad(file, `larger than ${MAX_CONFIG_BYTES} bytes`);
    out.push({ file, text: await fs.readFile(file, 'utf8') });
  }
  return out;
}

/** Reads and merges the registries.d directories (later directories override earlier ones). */
export async function loadRegistriesD(dirs: readonly string[]): Promise<RegistriesD> {
  let defaultDocker: RegistryNamespaceConfig | undefined;
  const docker = new Map<string, RegistryNamespaceConfig>();
  for (const dir of dirs) {
    let dirDefault: RegistryNamespaceConfig | undefined;
    const dirDocker = new Map<string, RegistryNamespaceConfig>();
    for (const { file, text } of await readDir(dir)) {
      let doc: unknown;
      try {
        // Aliases are refused: a config file has no use for them and they are how YAML bombs grow.
        doc = parseYaml(text, { maxAliasCount: 0, uniqueKeys: true });
      } catch (err) {
        throw bad(file, `not valid YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
      }
      if (doc === null || doc === undefined) continue;
      if (typeof doc !== 'object' || Array.isArray(doc)) throw bad(file, 'the top level must be a mapping');
      const top = doc as Record<string, unknown>;
      if (top['default-docker'] !== undefined) {
        if (dirDefault) throw bad(file, `default-docker is also set in ${dirDefault.source}`);
        dirDefault = parseNamespace(top['default-docker'], file, 'default-docker');
      }
      const ns = top['docker'];
      if (ns === undefined || ns === null) continue;
      if (typeof ns !== 'object' || Array.isArray(ns)) throw bad(file, 'docker must be a mapping of namespaces');
      for (const [key, v] of Object.entries(ns as Record<string, unknown>)) {
        const prev = dirDocker.get(key);
        if (prev) throw bad(file, `docker namespace ${JSON.stringify(key)} is also set in ${prev.source}`);
        dirDocker.set(key, parseNamespace(v, file, `docker.${key}`));
      }
    }
    if (dirDefault) defaultDocker = dirDefault;
    for (const [k, v] of dirDocker) docker.set(k, v);
  }
  return { ...(defaultDocker ? { defaultDocker } : {}), docker };
}

/** Namespaces that apply to a reference, most specific first (containers/image's search order). */
export function namespacesFor(ref: DockerReference): string[] {
  const out: string[] = [];
  const full = formatDockerReference(ref, true);
  const repo = formatDockerReference(ref, false);
  if (full !== repo) out.push(full);
  const parts = repo.split('/');
  for (let i = parts.length; i > 0; i--) out.push(parts.slice(0, i).join('/'));
  // *.example.com matches the subdomains of example.com (never example.com itself).
  const hostname = ref.host.replace(/:[0-9]+$/, '');
  const labels = hostname.split('.');
  for (let i = 1; i < labels.length; i++) out.push(`*.${labels.slice(i).join('.')}`);
  return out;
}

/**
 * The lookaside that applies to an image: that of the most specific namespace that sets one (a
 * namespace without one passes the question on, as in containers/image), else default-docker's.
 */
export function lookasideFor(cfg: RegistriesD, ref: DockerReference): { readonly url: string; readonly source: string } | undefined {
  for (const ns of namespacesFor(ref)) {
    const c = cfg.docker.get(ns);
    if (c?.lookaside !== undefined) return { url: c.lookaside, source: c.source };
  }
  const d = cfg.defaultDocker;
  return d?.lookaside !== undefined ? { url: d.lookaside, source: d.source } : undefined;
}
