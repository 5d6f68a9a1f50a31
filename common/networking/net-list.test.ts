// Unit tests for --net list parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNetList, parseNetList } from './net-list.js';
import { RktError } from '../errors.js';

test('empty --net means default', () => {
  assert.deepEqual(parseNetList(''), { kind: 'cni', networks: [{ name: 'default', args: '' }], all: false });
  assert.deepEqual(parseNetList([]), { kind: 'cni', networks: [{ name: 'default', args: '' }], all: false });
});

test('host and none stand alone', () => {
  assert.deepEqual(parseNetList('host'), { kind: 'host' });
  assert.deepEqual(parseNetList(['none']), { kind: 'none' });
  assert.throws(() => parseNetList('host,default'), /"host" cannot be combined/);
  assert.throws(() => parseNetList('none:A=b'), /"none" takes no arguments/);
});

test('several networks with CNI args keep their order', () => {
  const sel = parseNetList('default-restricted,mybr:IP=10.1.2.3;FOO=bar');
  assert.deepEqual(sel, {
    kind: 'cni',
    all: false,
    networks: [{ name: 'default-restricted', args: '' }, { name: 'mybr', args: 'IP=10.1.2.3;FOO=bar' }],
  });
  assert.equal(formatNetList(sel), 'default-restricted,mybr:IP=10.1.2.3;FOO=bar');
  // RunArgs.net arrives already split on commas.
  assert.deepEqual(parseNetList(['a', 'b:K=V']), { kind: 'cni', all: false, networks: [{ name: 'a', args: '' }, { name: 'b', args: 'K=V' }] });
});

test('bad names, bad args and duplicates are usage errors', () => {
  for (const [input, re] of [
    ['bad/name', /network name "bad\/name" must match/],
    ['a:novalue', /CNI argument "novalue" must be KEY=VALUE/],
    ['a:=x', /CNI argument "=x" must be KEY=VALUE/],
    ['a,a', /network "a" is listed twice/],
    ['all:X=1', /"all" takes no arguments/],
  ] as const) {
    assert.throws(() => parseNetList(input), (e: unknown) => e instanceof RktError && e.code === 'NETWORK_CONFIG' && e.exitCode === 2 && re.test(e.message));
  }
});

test('all is a flag next to named networks', () => {
  assert.deepEqual(parseNetList('all'), { kind: 'cni', all: true, networks: [] });
  assert.equal(formatNetList(parseNetList('all,x')), 'all,x');
});
