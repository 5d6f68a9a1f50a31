// Unit tests for Kubernetes-style resource quantities.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RktError } from '../errors.js';
import { parseResourceQuantity, tryParseQuantity } from './quantity.js';

test('decimal, binary and exponent suffixes', () => {
  const cases: [string, number, number][] = [
    ['0', 0, 0],
    ['1', 1, 1000],
    ['500m', 1, 500],
    ['0.5', 1, 500],
    ['1.5', 2, 1500],
    ['20m', 1, 20],
    ['50M', 50_000_000, 50_000_000_000],
    ['1G', 1_000_000_000, 1_000_000_000_000],
    ['1k', 1000, 1_000_000],
    ['1Ki', 1024, 1_024_000],
    ['123Mi', 128974848, 128974848000],
    ['125952Ki', 128974848, 128974848000],
    ['128974848', 128974848, 128974848000],
    ['1Gi', 1073741824, 1073741824000],
    ['1.5Gi', 1610612736, 1610612736000],
    ['2e3', 2000, 2_000_000],
    ['1E3', 1000, 1_000_000],
    ['1E', 1e18, 1e21],
    ['100n', 1, 1],
    ['.5', 1, 500],
    ['5.', 5, 5000],
    ['+7', 7, 7000],
  ];
  for (const [text, value, milli] of cases) {
    const q = tryParseQuantity(text);
    assert.ok(typeof q !== 'string', `${text}: ${String(q)}`);
    assert.deepEqual(q, { text, value, milli }, text);
  }
});

test('rounding is upwards, never through floats', () => {
  const q = parseResourceQuantity('0.1m');
  assert.equal(q.milli, 1);
  assert.equal(parseResourceQuantity('1001m').value, 2);
  assert.equal(parseResourceQuantity('-1').milli, -1000);
});

test('malformed quantities are rejected', () => {
  for (const s of ['', '2GB', '1K', 'M', '.', '1.2.3', 'abc', '1 Gi', '1e', '1Mi ', '0x10', '1e1000', '99999999999E']) {
    assert.equal(typeof tryParseQuantity(s), 'string', JSON.stringify(s));
  }
});

test('parseResourceQuantity throws a usage error for flags', () => {
  assert.throws(() => parseResourceQuantity('2GB'), (err: unknown) => {
    assert.ok(err instanceof RktError);
    assert.equal(err.code, 'USAGE');
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /^invalid quantity "2GB": unknown suffix "GB"/);
    return true;
  });
});
