// Image strings that name OCI/Docker images: rkt's docker://… and the local transports skopeo and
// podman users know (oci:, oci-archive:, docker-archive:). Parsing only; nothing is opened here.
import { RktError } from '../../common/errors.js';
import { parseDigest, type Digest } from './digest.js';

/** Docker Hub: what a reference without a registry host means, and where its API lives. */
export const DOCKER_HUB_NAME = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

export interface DockerReference {
  /** Registry host as written (with :port), or docker.io. */
  readonly host: string;
  /** Host the HTTP API is reached at (registry-1.docker.io for docker.io). */
  readonly apiHost: string;
  /** Repository path, e.g. library/busybox. */
  readonly repository: string;
  /** Tag, "latest" when neither tag nor digest was given. */
  readonly tag?: string;
  readonly digest?: Digest;
}

export type OciReference =
  | { readonly transport: 'docker'; readonly ref: DockerReference }
  | { readonly transport: 'oci'; readonly path: string; readonly name?: string }
  | { readonly transport: 'oci-archive'; readonly path: string; readonly name?: string }
  | { readonly transport: 'docker-archive'; readonly path: string; readonly ref?: DockerReference };

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

function bad(input: string, why: string): RktError {
  return new RktError('USAGE', `invalid image reference ${JSON.stringify(input)}: ${why}`, {
    hint: 'write docker://[HOST[:PORT]/]REPOSITORY[:TAG|@sha256:DIGEST], oci:DIR[:NAME], oci-archive:FILE[:NAME] or docker-archive:FILE[:REPO:TAG]',
  });
}

/** Parses what follows docker:// (also the REPO:TAG of docker-archive:). */
export function parseDockerReference(input: string, shown = input): DockerReference {
  if (input === '') throw bad(shown, 'empty');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    try {
      digest = parseDigest(rest.slice(at + 1), 'the reference');
    } catch {
      throw bad(shown, 'the digest after "@" must be sha256:<64 lowercase hex digits>');
    }
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  // Docker's rule: the first component is a registry host when it looks like one.
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  let host = DOCKER_HUB_NAME;
  if (hasHost) {
    if (!HOST.test(first)) throw bad(shown, `"${first}" is not a registry host`);
    host = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(shown, `"${tag}" is not a valid tag`);
  }
  if (rest === '') throw bad(shown, 'no repository');
  const parts = rest.split('/');
  for (const p of parts) {
    if (!COMPONENT.test(p)) throw bad(shown, `repository component "${p}" must be lowercase letters, digits and separators (. _ __ -)`);
  }
  if (host === DOCKER_HUB_NAME && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (repository.length > 255) throw bad(shown, 'repository longer than 255 characters');
  const apiHost = host === DOCKER_HUB_NAME ? DOCKER_HUB_API_HOST : host;
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { host, apiHost, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** host/repository[:tag][@digest], the reference as signatures and trust prefixes see it. */
export function formatDockerReference(r: DockerReference, withTag = true): string {
  let s = `${r.host}/${r.repository}`;
  if (withTag && r.tag !== undefined) s += `:${r.tag}`;
  if (withTag && r.digest) s += `@${r.digest.text}`;
  return s;
}

/** Splits "PATH[:REST]" at the first colon, as skopeo does for local transports. */
function splitPath(rest: string, input: string): { path: string; extra?: string } {
  const i = rest.indexOf(':');
  const p = i >= 0 ? rest.slice(0, i) : rest;
  if (p === '') throw bad(input, 'no path');
  return i >= 0 && i < rest.length - 1 ? { path: p, extra: rest.slice(i + 1) } : { path: p };
}

/** True when the string names an OCI/Docker image (one of the transports above). */
export function isOciImageString(s: string): boolean {
  return /^(?:docker:\/\/|oci:|oci-archive:|docker-archive:)/.test(s);
}

export function parseOciReference(input: string): OciReference {
  if (input.startsWith('docker://')) return { transport: 'docker', ref: parseDockerReference(input.slice('docker://'.length), input) };
  for (const transport of ['oci-archive', 'oci', 'docker-archive'] as const) {
    const prefix = `${transport}:`;
    if (!input.startsWith(prefix)) continue;
    const { path, extra } = splitPath(input.slice(prefix.length), input);
    if (transport === 'docker-archive') {
      return extra === undefined ? { transport, path } : { transport, path, ref: parseDockerReference(extra, input) };
    }
    return extra === undefined ? { transport, path } : { transport, path, name: extra };
  }
  throw bad(input, 'unknown transport');
}

export function formatOciReference(r: OciReference): string {
  switch (r.transport) {
    case 'docker':
      return `docker://${formatDockerReference(r.ref)}`;
    case 'oci':
    case 'oci-archive':
      return `${r.transport}:${r.path}${r.name !== undefined ? `:${r.name}` : ''}`;
    case 'docker-archive':
      return `docker-archive:${r.path}${r.ref ? `:${formatDockerReference(r.ref)}` : ''}`;
  }
}
