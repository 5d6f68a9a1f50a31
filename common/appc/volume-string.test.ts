// Unit tests for the --volume string form.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RktError } from '../errors.js';
import { volumeFromString } from './volume-string.js';

test('host and empty volumes from strings', () => {
  assert.deepEqual(volumeFromString('database,kind=host,source=/srv/db,readOnly=true'),
    { name: 'database', kind: 'host', source: '/srv/db', readOnly: true });
  assert.deepEqual(volumeFromString('work,kind=empty'), { name: 'work', kind: 'empty', mode: '0755', uid: 0, gid: 0 });
  assert.deepEqual(volumeFromString('work,kind=empty,mode=0700,uid=1000,gid=100,readOnly=0'),
    { name: 'work', kind: 'empty', mode: '0700', uid: 1000, gid: 100, readOnly: false });
  assert.deepEqual(volumeFromString('src,kind=host,source=/src,recursive=false'), { name: 'src', kind: 'host', source: '/src', recursive: false });
});

test('bad volume strings are usage errors naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['Data,kind=empty', /^invalid volume "Data,kind=empty": name "Data": must match/],
    ['data', /kind: is required/],
    ['data,kind=host', /source: is required for a host volume/],
    ['data,kind=host,source=rel', /source "rel": must be an absolute path/],
    ['data,kind=empty,size=1G', /unknown parameter "size"/],
    ['data,kind=empty,kind=host', /parameter "kind" given twice/],
    ['data,kind=empty,readOnly=yes', /readOnly must be true or false/],
    ['data,kind=empty,uid=-1', /uid must be a non-negative integer/],
    ['data,kind', /parameter "kind" must be key=value/],
  ];
  for (const [spec, re] of cases) {
    assert.throws(() => volumeFromString(spec), (err: unknown) => {
      assert.ok(err instanceof RktError);
      assert.equal(err.code, 'USAGE');
      assert.match(err.message, re);
      return true;
    }, spec);
  }
});
