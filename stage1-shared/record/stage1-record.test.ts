// The record reader: a round trip through write and read, and precise refusals of damaged records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseStage1Record, readStage1Record, updateStage1Record, writeStage1Record, type FlavorRecordCodec, type Stage1Record } from './stage1-record.js';

interface TestState { socket: string }
const codec: FlavorRecordCodec<TestState> = { flavor: 'test', parseState: (f) => ({ socket: f.str('socket') }) };

const record: Stage1Record<TestState> = {
  flavor: 'test',
  runtime: {
    hostname: 'h', mutable: true, diskShift: 0, disableCapabilities: false, disablePaths: false, disableSeccomp: true,
    privateUsers: { shift: 65536, count: 65536 }, metadataUrl: 'http://10.0.0.1:2375/tok',
    podEtc: { binds: [{ source: '/etc/hostname', target: '/etc/hostname' }], hostsFallback: { source: '/etc/rkt-hosts-fallback', target: '/etc/hosts' } },
  },
  apps: { a: { properties: [['NoNewPrivileges', 'yes']], path: '/bin', workingDirectory: '/' } },
  flavorState: { socket: 'x.sock' },
};

test('write, read and update keep every field', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rec-'));
  try {
    assert.equal(await readStage1Record(dir, codec), undefined);
    await writeStage1Record(dir, codec, record);
    assert.deepEqual(await readStage1Record(dir, codec), record);
    const next = await updateStage1Record(dir, codec, (r) => {
      r.apps['b'] = { properties: [], path: '/usr/bin', workingDirectory: '/srv' };
    });
    assert.deepEqual(Object.keys(next.apps), ['a', 'b']);
    assert.deepEqual(await readStage1Record(dir, codec), next);
    assert.deepEqual((await fs.readdir(dir)).filter((f) => f.includes('tmp')), []);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('damaged records are refused with the field at fault', () => {
  const bad = (mutate: (v: Record<string, unknown>) => void): () => void => () => {
    const v = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
    mutate(v);
    parseStage1Record('f.json', v, codec);
  };
  assert.throws(bad((v) => { v['flavor'] = 'other'; }), /written by the other stage1, read by the test one/);
  assert.throws(bad((v) => { (v['runtime'] as Record<string, unknown>)['diskShift'] = -1; }), /"runtime.diskShift" must be a non-negative integer/);
  assert.throws(bad((v) => { delete (v['runtime'] as Record<string, unknown>)['mutable']; }), /"runtime.mutable" must be true or false/);
  assert.throws(bad((v) => { ((v['apps'] as Record<string, Record<string, unknown>>)['a'] ?? {})['properties'] = [['x']]; }), /"apps.a.properties" must be a list of \[name, value\] pairs/);
  assert.throws(bad((v) => { v['flavorState'] = {}; }), /"flavorState.socket" must be a string/);
  assert.throws(() => parseStage1Record('f.json', [], codec), /not a JSON object/);
});
