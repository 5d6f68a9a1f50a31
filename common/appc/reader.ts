// Typed reading of untrusted JSON values, with errors that name the field path and the rule broken.
// Key lookup mirrors Go's encoding/json (which produced and read rkt-era manifests): an exact key wins,
// otherwise a case-insensitive match is used; unknown keys are ignored and JSON null counts as absent.

export type JsonObject = { readonly [key: string]: unknown };

/** A schema violation at `path`; the manifest parsers turn it into a RktError('MANIFEST_INVALID'). */
export class SchemaError extends Error {
  readonly path: string;
  readonly rule: string;

  constructor(path: string, rule: string, value?: unknown) {
    const shown = typeof value === 'string' ? ` ${quote(value)}` : '';
    super(`${path || '(top level)'}${shown}: ${rule}`);
    Object.defineProperty(this, 'name', { value: 'SchemaError', enumerable: false });
    this.path = path;
    this.rule = rule;
  }
}

const MAX_SHOWN = 80;

/** JSON-quote a value for an error message, escaping control characters and truncating long input. */
export function quote(s: string): string {
  const cut = s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}...` : s;
  return JSON.stringify(cut);
}

export function fail(path: string, rule: string, value?: unknown): never {
  throw new SchemaError(path, rule, value);
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** The JSON type name of a value, for "must be a string, got number" messages. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Read a field: exact key first, then a case-insensitive match; null is reported as absent. */
export function field(obj: JsonObject, key: string): unknown {
  let v: unknown;
  if (Object.hasOwn(obj, key)) {
    v = obj[key];
  } else {
    const lower = key.toLowerCase();
    const match = Object.keys(obj).find((k) => k.toLowerCase() === lower);
    v = match === undefined ? undefined : obj[match];
  }
  return v === null ? undefined : v;
}

export function asObject(v: unknown, path: string): JsonObject {
  if (!isObject(v)) fail(path, `must be an object, got ${jsonType(v)}`);
  return v;
}

export function asString(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, `must be a string, got ${jsonType(v)}`);
  return v;
}

export function asBoolean(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, `must be a boolean, got ${jsonType(v)}`);
  return v;
}

export function asArray(v: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(v)) fail(path, `must be an array, got ${jsonType(v)}`);
  return v;
}

export function asInteger(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, `must be an integer, got ${describeNumber(v)}`);
  if (v < min || v > max) fail(path, `must be in the range ${min}-${max}, got ${v}`);
  return v;
}

function describeNumber(v: unknown): string {
  return typeof v === 'number' ? String(v) : jsonType(v);
}

export function requiredString(obj: JsonObject, key: string, path: string): string {
  const v = field(obj, key);
  const at = join(path, key);
  if (v === undefined) fail(at, 'is required');
  const s = asString(v, at);
  if (s === '') fail(at, 'must not be empty');
  return s;
}

export function optionalString(obj: JsonObject, key: string, path: string): string | undefined {
  const v = field(obj, key);
  return v === undefined ? undefined : asString(v, join(path, key));
}

export function optionalBoolean(obj: JsonObject, key: string, path: string): boolean | undefined {
  const v = field(obj, key);
  return v === undefined ? undefined : asBoolean(v, join(path, key));
}

/** An optional array field; absent or null reads as []. Each element goes through `each`. */
export function arrayField<T>(
  obj: JsonObject,
  key: string,
  path: string,
  each: (v: unknown, path: string) => T,
): T[] {
  const v = field(obj, key);
  if (v === undefined) return [];
  const at = join(path, key);
  return asArray(v, at).map((item, i) => each(item, join(at, i)));
}

/** A JSON object whose values must all be strings (userAnnotations, userLabels, sysctl). */
export function asStringMap(v: unknown, path: string): Record<string, string> {
  const obj = asObject(v, path);
  const entries: [string, string][] = [];
  for (const [k, val] of Object.entries(obj)) entries.push([k, asString(val, join(path, k))]);
  // fromEntries defines own data properties, so a "__proto__" key cannot reach the prototype.
  return Object.fromEntries(entries);
}

/** Fail if two elements share a key (label names, volume names, ...). */
export function assertUnique<T>(items: readonly T[], key: (item: T) => string, path: string, what: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) fail(join(path, i), `duplicate ${what} ${quote(k)}`);
    seen.add(k);
  });
}
