// Unit tests for the test-only pause hook: inert unless its phase is named, clear when misconfigured,
// and it holds the command until the marker file is removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RktError } from '../../common/errors.js';
import { makeOutput } from './output.js';
import { pauseForTest } from './test-pause.js';

const out = makeOutput('test', false);

test('does nothing unless RKT_TEST_PAUSE_AT names this phase', async () => {
  await pauseForTest('image-gc-locked', out, {});
  await pauseForTest('image-gc-locked', out, { RKT_TEST_PAUSE_AT: 'prepare-images-resolved', RKT_TEST_PAUSE_MARKER: '/nonexistent/x' });
});

test('a phase without a marker file is a usage error', async () => {
  await assert.rejects(pauseForTest('image-gc-locked', out, { RKT_TEST_PAUSE_AT: 'image-gc-locked' }), (err: unknown) => {
    assert.ok(err instanceof RktError);
    assert.equal(err.code, 'USAGE');
    assert.match(err.message, /RKT_TEST_PAUSE_MARKER/);
    return true;
  });
});

test('writes its pid to the marker and goes on once the marker is removed', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rkt-pause-'));
  const marker = path.join(dir, 'paused');
  let resumed = false;
  const p = pauseForTest('prepare-images-resolved', out, { RKT_TEST_PAUSE_AT: 'prepare-images-resolved', RKT_TEST_PAUSE_MARKER: marker }).then(() => {
    resumed = true;
  });
  let pid = '';
  for (let i = 0; i < 200 && pid === ''; i++) {
    pid = await readFile(marker, 'utf8').catch(() => '');
    if (pid === '') await sleep(10);
  }
  assert.equal(pid, `${process.pid}\n`);
  await sleep(100);
  assert.equal(resumed, false);
  await unlink(marker);
  await p;
  assert.equal(resumed, true);
  await rm(dir, { recursive: true, force: true });
});
