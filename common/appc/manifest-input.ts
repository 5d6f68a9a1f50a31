// Shared entry steps of the manifest parsers: decoding the input, checking acKind, and turning
// schema violations into the one user-facing error.

import { RktError } from '../errors.js';
import { type JsonObject, SchemaError, asString, field, quote } from './reader.js';

/** Decode manifest input: JSON text, UTF-8 bytes, or an already parsed value. Throws SchemaError. */
export function decodeJson(input: unknown): unknown {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input instanceof Uint8Array) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new SchemaError('', 'not valid UTF-8');
    }
  } else return input;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SchemaError('', `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Run a schema parser and turn its SchemaError into the user-facing RktError. */
export function withManifestErrors<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    const where = err.path === '' ? err.rule : err.message;
    throw new RktError('MANIFEST_INVALID', `invalid ${what}: ${where}`, { cause: err });
  }
}

export function checkKind(obj: JsonObject, kind: 'ImageManifest' | 'PodManifest'): void {
  const v = field(obj, 'acKind');
  if (v === undefined) throw new SchemaError('acKind', 'is required');
  const s = asString(v, 'acKind');
  if (s !== kind) throw new SchemaError('acKind', `must be ${quote(kind)}`, s);
}
