// Typed, strict reading of the stage1 record's JSON: every accessor names the field's full path in its
// error, so a damaged record says exactly what is wrong instead of failing later on an undefined.
import { RktError } from '../../common/errors.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class RecordFields {
  private constructor(private readonly file: string, private readonly at: string, private readonly v: Record<string, unknown>) {}

  /** The document's top level; `file` only labels errors. */
  static of(file: string, v: unknown): RecordFields {
    if (!isObject(v)) throw new RktError('POD_INVALID', `invalid ${file}: not a JSON object`);
    return new RecordFields(file, '', v);
  }

  fail(key: string, expected: string): RktError {
    return new RktError('POD_INVALID', `invalid ${this.file}: ${this.path(key)} must be ${expected}`);
  }

  private path(key: string): string {
    return this.at === '' ? `"${key}"` : `"${this.at}.${key}"`;
  }

  has(key: string): boolean {
    return this.v[key] !== undefined;
  }

  str(key: string): string {
    const x = this.v[key];
    if (typeof x !== 'string') throw this.fail(key, 'a string');
    return x;
  }

  optStr(key: string): string | undefined {
    return this.has(key) ? this.str(key) : undefined;
  }

  /** A non-negative integer (ids, counts, sizes). */
  count(key: string): number {
    const x = this.v[key];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw this.fail(key, 'a non-negative integer');
    return x;
  }

  bool(key: string): boolean {
    const x = this.v[key];
    if (typeof x !== 'boolean') throw this.fail(key, 'true or false');
    return x;
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T {
    const x = this.v[key];
    const hit = values.find((v) => v === x);
    if (hit === undefined) throw this.fail(key, `one of ${values.join(', ')}`);
    return hit;
  }

  obj(key: string): RecordFields {
    const x = this.v[key];
    if (!isObject(x)) throw this.fail(key, 'an object');
    return new RecordFields(this.file, this.at === '' ? key : `${this.at}.${key}`, x);
  }

  optObj(key: string): RecordFields | undefined {
    return this.has(key) ? this.obj(key) : undefined;
  }

  /** An object used as a map: each value read by `item` (which gets the entry as fields). */
  entries<T>(key: string, item: (f: RecordFields, name: string) => T): Record<string, T> {
    const o = this.obj(key);
    const out: Record<string, T> = {};
    for (const name of Object.keys(o.v)) out[name] = item(o.obj(name), name);
    return out;
  }

  strList(key: string, check: (s: string) => boolean = () => true, expected = 'a list of strings'): string[] {
    const x = this.v[key];
    if (!Array.isArray(x) || !x.every((s): s is string => typeof s === 'string' && check(s))) throw this.fail(key, expected);
    return x;
  }

  pairList(key: string): Array<[string, string]> {
    const x = this.v[key];
    const isPair = (p: unknown): p is [string, string] => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string';
    if (!Array.isArray(x) || !x.every(isPair)) throw this.fail(key, 'a list of [name, value] pairs');
    return x.map(([a, b]): [string, string] => [a, b]);
  }

  objList<T>(key: string, item: (f: RecordFields) => T): T[] {
    const x = this.v[key];
    if (!Array.isArray(x)) throw this.fail(key, 'a list');
    return x.map((e, i) => {
      if (!isObject(e)) throw this.fail(`${key}[${i}]`, 'an object');
      return item(new RecordFields(this.file, this.at === '' ? `${key}[${i}]` : `${this.at}.${key}[${i}]`, e));
    });
  }
}
