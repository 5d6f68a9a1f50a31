// appc name rules: AC Identifier (image, label, annotation, isolator names), AC Name (app, volume,
// mount point, port names), image IDs (sha512-<hex>) and the SemVer of acVersion.

import { RktError } from '../errors.js';
import { fail } from './reader.js';

export const AC_IDENTIFIER_RULE = 'must match [a-z0-9]+([-._~/][a-z0-9]+)*';
export const AC_NAME_RULE = 'must match [a-z0-9]+(-[a-z0-9]+)*';

// Like appc's Go reference we check the character set and both edges only, so "a--b" and
// "example..com/x" pass (rkt accepted them); everything we reject also fails the spec's regex.
const AC_IDENTIFIER_CHARS = /^[a-z0-9._~/-]+$/;
const AC_IDENTIFIER_EDGES = /^[a-z0-9](.*[a-z0-9])?$/s;
const AC_NAME_CHARS = /^[a-z0-9-]+$/;
const AC_NAME_EDGES = AC_IDENTIFIER_EDGES;

export function isACIdentifier(s: string): boolean {
  return AC_IDENTIFIER_CHARS.test(s) && AC_IDENTIFIER_EDGES.test(s);
}

export function isACName(s: string): boolean {
  return AC_NAME_CHARS.test(s) && AC_NAME_EDGES.test(s);
}

/** Schema-level check used by the manifest parsers (throws SchemaError). */
export function checkACIdentifier(s: string, path: string): string {
  if (s === '') fail(path, `must not be empty (${AC_IDENTIFIER_RULE})`);
  if (!isACIdentifier(s)) fail(path, AC_IDENTIFIER_RULE, s);
  return s;
}

export function checkACName(s: string, path: string): string {
  if (s === '') fail(path, `must not be empty (${AC_NAME_RULE})`);
  if (!isACName(s)) fail(path, AC_NAME_RULE, s);
  return s;
}

/** Validate a user-supplied AC Name (e.g. an app or volume name from a flag); `field` names it in the error. */
export function validateACName(s: string, field: string): string {
  if (!isACName(s)) {
    throw new RktError('NAME_INVALID', `invalid ${field} ${JSON.stringify(s)}: ${AC_NAME_RULE}`, {
      hint: 'use lowercase letters, digits and single dashes, starting and ending with a letter or digit',
    });
  }
  return s;
}

/** Validate a user-supplied AC Identifier (image name, label or annotation name). */
export function validateACIdentifier(s: string, field: string): string {
  if (!isACIdentifier(s)) {
    throw new RktError('NAME_INVALID', `invalid ${field} ${JSON.stringify(s)}: ${AC_IDENTIFIER_RULE}`, {
      hint: 'use lowercase letters, digits and -._~/ separators, starting and ending with a letter or digit',
    });
  }
  return s;
}

/**
 * Turn an arbitrary string into an AC Name (lowercase, invalid characters become "-", dashes trimmed
 * from the edges), e.g. the default app name "etcd" from image name "coreos.com/etcd". Returns
 * undefined when nothing valid is left.
 */
export function sanitizeACName(s: string): string | undefined {
  const out = s.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  return out === '' ? undefined : out;
}

/** The default app name for an image: the sanitized last path element of its name. */
export function defaultAppName(imageName: string): string | undefined {
  const base = imageName.split('/').filter((p) => p !== '').pop() ?? '';
  return sanitizeACName(base);
}

/** A full image ID as the store produces it: sha512- followed by 128 lowercase hex digits. */
export const FULL_IMAGE_ID = /^sha512-[0-9a-f]{128}$/;
const IMAGE_ID_OR_PREFIX = /^sha512-[0-9a-f]{1,128}$/;

/** Image ID as used in pod manifests: sha512-<hex>, possibly shortened (rkt's 39-char short form). */
export function checkImageId(s: string, path: string): string {
  if (!IMAGE_ID_OR_PREFIX.test(s)) fail(path, 'must be sha512-<lowercase hex>', s);
  return s;
}

/**
 * Image ID as written in a dependency: appc's reference only requires "sha512-" and a non-empty
 * value without "-" (the spec's own example says "sha512-..."); the store verifies real hashes.
 */
export function checkDependencyImageId(s: string, path: string): string {
  const parts = s.split('-');
  if (parts.length !== 2 || parts[0] !== 'sha512' || parts[1] === '') fail(path, 'must be sha512-<hash>', s);
  return s;
}

// SemVer 2.0.0 (https://semver.org): MAJOR.MINOR.PATCH, optional -prerelease and +build.
const NUM = '(0|[1-9][0-9]*)';
const PRE_ID = '(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)';
const SEMVER = new RegExp(
  `^${NUM}\\.${NUM}\\.${NUM}(-${PRE_ID}(\\.${PRE_ID})*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$`,
);

export function checkSemVer(s: string, path: string): string {
  if (!SEMVER.test(s)) fail(path, 'must be a semantic version such as 0.8.11', s);
  if (s === '0.0.0') fail(path, 'must not be the zero version', s);
  return s;
}
