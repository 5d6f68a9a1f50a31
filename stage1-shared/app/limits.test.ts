// app/update: its argv, the systemd properties it sets, and the drop-ins app/rm removes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildUpdateArgs, parseUpdateArgs } from '../../common/stage1-contract.js';
import { limitDropIns, setLimitsArgv } from './limits.js';

const UUID = '01234567-89ab-cdef-0123-456789abcdef';

test('limits become the properties app/add writes: MemoryMax, CPUQuota in percent, both share spellings', () => {
  assert.deepEqual(setLimitsArgv('u.slice', { debug: false, app: 'a', uuid: UUID, memoryMax: 1024, cpuQuotaPercent: 50, cpuShares: 2048 }),
    ['/bin/systemctl', 'set-property', 'u.slice', 'MemoryMax=1024', 'CPUQuota=50%', 'CPUShares=2048', 'CPUWeight=200']);
  assert.equal(setLimitsArgv('u.slice', { debug: false, app: 'a', uuid: UUID }), undefined);
  assert.ok(limitDropIns('a').every((f) => f.startsWith('etc/systemd/system.control/') && f.endsWith('.conf')));
});

test('app/update argv round-trips; a bad number is a usage error naming the flag', () => {
  const a = { debug: true, app: 'web', uuid: UUID, memoryMax: 4096, cpuShares: 10 };
  assert.deepEqual(parseUpdateArgs(buildUpdateArgs(a)), a);
  assert.throws(() => parseUpdateArgs(['--app=web', '--memory=-1', UUID]), /stage1 app-update: --memory: expected a positive integer/);
  assert.throws(() => parseUpdateArgs(['--memory=1', UUID]), /--app: expected an app name/);
});
