// Kubernetes-style resource quantities ("500m", "50M", "1Gi", "2e3") as used by appc's resource
// isolators and rkt's --memory/--cpu flags. Parsed exactly with BigInt, never through floats.

import { RktError } from '../errors.js';

export interface ResourceQuantity {
  /** The text as given, e.g. "1Gi". */
  text: string;
  /** The amount in base units (bytes, cores, bytes/s), rounded up to an integer: "1Gi" -> 1073741824, "500m" -> 1. */
  value: number;
  /** The amount in thousandths of a base unit, rounded up: "500m" -> 500, "2" -> 2000. */
  milli: number;
}

export const QUANTITY_RULE = 'must be a quantity such as 500m, 128974848, 129M or 123Mi';

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const QUANTITY = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([a-zA-Z]*|[eE][+-]?[0-9]+)$/;
const MAX_EXPONENT = 100;
const MAX_VALUE = (1n << 63n) - 1n;

function ceilDiv(num: bigint, den: bigint): bigint {
  const q = num / den;
  return num % den > 0n ? q + 1n : q;
}

/** The rule broken by `s`, or the parsed quantity. */
export function tryParseQuantity(s: string): ResourceQuantity | string {
  const m = QUANTITY.exec(s);
  if (!m) return QUANTITY_RULE;
  const [, sign = '', int = '', frac = '', suffix = ''] = m;
  if (int === '' && frac === '') return QUANTITY_RULE;
  let exp10 = 0;
  let exp2 = 0;
  if (Object.hasOwn(DECIMAL_SUFFIX, suffix)) exp10 = DECIMAL_SUFFIX[suffix] ?? 0;
  else if (Object.hasOwn(BINARY_SUFFIX, suffix)) exp2 = BINARY_SUFFIX[suffix] ?? 0;
  else if (/^[eE][+-]?[0-9]+$/.test(suffix)) exp10 = Number(suffix.slice(1));
  else return `unknown suffix ${JSON.stringify(suffix)} (${QUANTITY_RULE})`;
  if (Math.abs(exp10) > MAX_EXPONENT) return `exponent out of range (${QUANTITY_RULE})`;

  // amount = mantissa * 10^(exp10 - frac.length) * 2^exp2, as the fraction num/den.
  const mantissa = BigInt(`${int}${frac}` || '0');
  const shift = exp10 - frac.length;
  let num = mantissa << BigInt(exp2);
  let den = 1n;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den = 10n ** BigInt(-shift);
  if (num / den > MAX_VALUE) return `must not exceed ${MAX_VALUE} base units`;
  const negative = sign === '-' && mantissa !== 0n;
  // Round up towards +infinity, as Kubernetes does.
  const value = negative ? -(num / den) : ceilDiv(num, den);
  const milli = negative ? -((num * 1000n) / den) : ceilDiv(num * 1000n, den);
  return { text: s, value: Number(value), milli: Number(milli) };
}

/**
 * Parse a quantity for a command-line flag such as --memory=50M or --cpu=500m. Throws a usage
 * RktError naming the rule; manifest parsing reports its own MANIFEST_INVALID errors instead.
 */
export function parseResourceQuantity(s: string): ResourceQuantity {
  const q = tryParseQuantity(s);
  if (typeof q === 'string') {
    throw new RktError('USAGE', `invalid quantity ${JSON.stringify(s)}: ${q}`, {
      hint: 'memory takes bytes with an optional suffix (k, M, G, Ki, Mi, Gi); cpu takes cores or millicores (500m)',
    });
  }
  return q;
}
