// App states and run history as `rkt app list/status` read them from the pod's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appStateOf } from '../pod/info.js';
import { parseHistory } from './app-state.js';

test('history lines: times, exit code and invocation id; junk skipped', () => {
  const runs = parseHistory('1700000000 1700000005 143 0123456789abcdef0123456789abcdef\ngarbage\n1700000010 1700000011 0\n');
  assert.equal(runs.length, 2);
  assert.equal(runs[0]?.exitCode, 143);
  assert.equal(runs[0]?.invocationId, '0123456789abcdef0123456789abcdef');
  assert.equal(runs[0]?.finishedAt.getTime(), 1700000005000);
  assert.equal(runs[1]?.invocationId, undefined);
});

test('app state: created until started in a mutable pod; running with its pod otherwise', () => {
  assert.equal(appStateOf('running', true, false, undefined), 'created');
  assert.equal(appStateOf('running', true, true, undefined), 'running');
  assert.equal(appStateOf('running', true, true, 0), 'exited');
  assert.equal(appStateOf('running', false, false, undefined), 'running');
  assert.equal(appStateOf('exited', false, false, undefined), 'exited');
  assert.equal(appStateOf('exited', true, false, undefined), 'created');
  assert.equal(appStateOf('prepared', false, false, undefined), 'created');
});
