// Labels and annotations: AC Identifier names, uniqueness, the os/arch whitelist, and the well-known
// annotations whose values appc checks (created, homepage, documentation).

import { RktError } from '../errors.js';
import { checkACIdentifier } from './names.js';
import {
  SchemaError, asArray, asObject, asString, assertUnique, fail, field, join, quote, requiredString,
} from './reader.js';
import type { Annotation, Label } from './types.js';

/**
 * Valid os/arch pairs: appc's reference list (types.ValidOSArch), which supersedes the shorter list in
 * the spec prose. Note linux uses "amd64", never "x86_64".
 */
export const VALID_OS_ARCH: Readonly<Record<string, readonly string[]>> = {
  darwin: ['x86_64', 'i386'],
  freebsd: ['amd64', 'i386', 'arm'],
  linux: ['amd64', 'i386', 'aarch64', 'aarch64_be', 'armv6l', 'armv7l', 'armv7b', 'ppc64', 'ppc64le', 's390x'],
};

/** The os/arch labels of the machine we run on, in appc spelling (Node's "x64" is appc's "amd64"). */
export function hostOsArch(): { os: string; arch: string } {
  const arch: Record<string, string> = { x64: 'amd64', ia32: 'i386', arm64: 'aarch64', arm: 'armv7l' };
  return { os: process.platform, arch: arch[process.arch] ?? process.arch };
}

/** Rule broken by an os/arch pair, or undefined when valid. An arch without an os is not checked. */
export function osArchProblem(os: string | undefined, arch: string | undefined): string | undefined {
  if (os === undefined) return undefined;
  const arches = VALID_OS_ARCH[os];
  if (!Object.hasOwn(VALID_OS_ARCH, os) || arches === undefined) {
    return `bad os ${quote(os)} (must be one of: ${Object.keys(VALID_OS_ARCH).sort().join(', ')})`;
  }
  if (arch !== undefined && !arches.includes(arch)) {
    return `bad arch ${quote(arch)} for os ${quote(os)} (must be one of: ${arches.join(', ')})`;
  }
  return undefined;
}

function parseNameValue(v: unknown, path: string): { name: string; value: string } {
  const obj = asObject(v, path);
  const name = checkACIdentifier(requiredString(obj, 'name', path), join(path, 'name'));
  const raw = field(obj, 'value');
  const value = raw === undefined ? '' : asString(raw, join(path, 'value'));
  return { name, value };
}

export function parseLabels(v: unknown, path: string): Label[] {
  if (v === undefined) return [];
  const list = asArray(v, path).map((item, i) => parseNameValue(item, join(path, i)));
  list.forEach((l, i) => {
    if (l.name === 'name') fail(join(join(path, i), 'name'), 'a label must not be called "name"');
  });
  assertUnique(list, (l) => l.name, path, 'label');
  const problem = osArchProblem(labelValue(list, 'os'), labelValue(list, 'arch'));
  if (problem !== undefined) fail(path, problem);
  return list;
}

// RFC 3339 with the mandatory "T" and a zone, as Go's time.RFC3339 parser requires.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

export function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const zoneOk = m[9] === undefined || (Number(m[9]) < 24 && Number(m[10]) < 60);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth && h < 24 && mi < 60 && sec < 60 && zoneOk;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function parseAnnotations(v: unknown, path: string): Annotation[] {
  if (v === undefined) return [];
  const list = asArray(v, path).map((item, i) => parseNameValue(item, join(path, i)));
  assertUnique(list, (a) => a.name, path, 'annotation');
  list.forEach((a, i) => {
    const at = join(join(path, i), 'value');
    if (a.name === 'created' && !isRfc3339(a.value)) {
      fail(at, 'annotation "created" must be an RFC 3339 date such as 2014-10-27T19:32:27Z', a.value);
    }
    if ((a.name === 'homepage' || a.name === 'documentation') && !isHttpUrl(a.value)) {
      fail(at, `annotation ${quote(a.name)} must be an http or https URL`, a.value);
    }
  });
  return list;
}

/** The value of the label called `name`, if any. */
export function labelValue(labels: readonly Label[], name: string): string | undefined {
  return labels.find((l) => l.name === name)?.value;
}

/** The value of the annotation called `name`, if any. */
export function annotationValue(annotations: readonly Annotation[], name: string): string | undefined {
  return annotations.find((a) => a.name === name)?.value;
}

/** Labels as a plain record (for display, matching and the store's index). */
export function labelsToRecord(labels: readonly Label[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => [l.name, l.value]));
}

/**
 * Labels from a record (e.g. the labels of an image string "name:1.0,os=linux"), sorted by name as
 * appc's LabelsFromMap does, with the same validation as manifest labels. Throws RktError('NAME_INVALID').
 */
export function labelsFromRecord(record: Readonly<Record<string, string>>): Label[] {
  const list = Object.entries(record)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
  try {
    return parseLabels(list, 'labels');
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    const rule = err.path === 'labels' ? err.rule : err.message;
    throw new RktError('NAME_INVALID', `invalid labels: ${rule}`, { cause: err });
  }
}
