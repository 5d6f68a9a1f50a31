// appc's string form of a volume, as taken by rkt's --volume flag:
// "NAME,kind=host|empty[,source=PATH][,readOnly=BOOL][,recursive=BOOL][,mode=0755][,uid=N][,gid=N]".

import { RktError } from '../errors.js';
import { parseVolume } from './pod-manifest.js';
import { SchemaError } from './reader.js';
import type { Volume } from './types.js';

const BOOL: Readonly<Record<string, boolean>> = {
  '1': true, t: true, T: true, true: true, TRUE: true, True: true,
  '0': false, f: false, F: false, false: false, FALSE: false, False: false,
};

function usage(spec: string, why: string, cause?: unknown): RktError {
  return new RktError('USAGE', `invalid volume ${JSON.stringify(spec)}: ${why}`, {
    hint: 'use NAME,kind=host,source=/abs/path[,readOnly=true] or NAME,kind=empty[,mode=0755,uid=0,gid=0]',
    cause,
  });
}

/** Parse a --volume value into a validated Volume; errors are usage errors (exit 2). */
export function volumeFromString(spec: string): Volume {
  const [name = '', ...params] = spec.split(',');
  const fields: Record<string, unknown> = { name };
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) throw usage(spec, `parameter ${JSON.stringify(param)} must be key=value`);
    const key = param.slice(0, eq);
    const value = param.slice(eq + 1);
    if (Object.hasOwn(fields, key)) throw usage(spec, `parameter ${JSON.stringify(key)} given twice`);
    if (key === 'kind' || key === 'source' || key === 'mode') fields[key] = value;
    else if (key === 'readOnly' || key === 'recursive') {
      const b = Object.hasOwn(BOOL, value) ? BOOL[value] : undefined;
      if (b === undefined) throw usage(spec, `${key} must be true or false`);
      fields[key] = b;
    } else if (key === 'uid' || key === 'gid') {
      if (!/^[0-9]+$/.test(value)) throw usage(spec, `${key} must be a non-negative integer`);
      fields[key] = Number(value);
    } else throw usage(spec, `unknown parameter ${JSON.stringify(key)}`);
  }
  try {
    return parseVolume(fields, 'volume');
  } catch (err) {
    if (err instanceof SchemaError) throw usage(spec, err.message.replace(/^volume\./, ''), err);
    throw err;
  }
}
