// app/stats: the script's lines to typed figures, and the contract's JSON answer parsed strictly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatsArgs, parsePodStats, parseStatsArgs } from '../../common/stage1-contract.js';
import { parseStatsLines, statsArgv } from './stats.js';

test('a cgroup with a memory controller gives usage, working set (less inactive file) and anon RSS', () => {
  const m = parseStatsLines('app-a.service 1500 8192 4096 1024 12288\nnoise\n');
  assert.deepEqual(m.get('app-a.service'), { running: true, cpuUsageNs: 1_500_000, memoryUsageBytes: 8192, workingSetBytes: 7168, rssBytes: 4096 });
});

test('without a memory controller the processes\' RSS stands in; a stopped unit is not running', () => {
  const m = parseStatsLines('a.service 20 - - - 65536\nb.service - - - - -\n');
  assert.deepEqual(m.get('a.service'), { running: true, cpuUsageNs: 20_000, memoryUsageBytes: 65536, workingSetBytes: 65536, rssBytes: 65536 });
  assert.deepEqual(m.get('b.service'), { running: false });
});

test('the script takes the units as arguments, the args a uuid', () => {
  assert.deepEqual(statsArgv(['x.service']).slice(3), ['sh', 'x.service']);
  const uuid = '01234567-89ab-cdef-0123-456789abcdef';
  assert.deepEqual(parseStatsArgs(buildStatsArgs({ debug: true, uuid })), { debug: true, uuid });
  assert.throws(() => parseStatsArgs(['--app=a', uuid]), /stage1 app-stats/);
});

test('the answer is checked: a stage1 is another program', () => {
  const ok = parsePodStats('{"timestampNs":"1700000000000000000","apps":{"a":{"running":true,"cpuUsageNs":5}}}');
  assert.deepEqual(ok.apps, { a: { running: true, cpuUsageNs: 5 } });
  assert.throws(() => parsePodStats('nope'), /app-stats printed no valid answer: not JSON/);
  assert.throws(() => parsePodStats('{"timestampNs":1,"apps":{}}'), /timestampNs must be a decimal string/);
  assert.throws(() => parsePodStats('{"timestampNs":"1","apps":{"a":{"running":true,"cpuUsageNs":-1}}}'), /apps\.a\.cpuUsageNs must be a non-negative integer/);
});
