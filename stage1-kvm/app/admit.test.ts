// The sandbox VM's memory rule for app/add: limits add up against the apps' budget, apps without one pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePodManifest } from '../../common/appc/index.js';
import { memoryLimitBytes, memoryRefusal } from './admit.js';

const MIB = 1024 * 1024;

test('admission: fits exactly, one MiB over is refused with both fixes named, no limit always fits', () => {
  assert.equal(memoryRefusal('a', { budgetMiB: 512, limitBytes: 256 * MIB, othersBytes: [256 * MIB] }), undefined);
  const r = memoryRefusal('a', { budgetMiB: 512, limitBytes: 257 * MIB, othersBytes: [256 * MIB] });
  assert.match(r ?? '', /^app "a" does not fit in the sandbox VM: its memory limit is 257 MiB and 256 of the apps' 512 MiB are left/);
  assert.match(r ?? '', /smaller --memory/);
  assert.match(r ?? '', /--annotation=rkt-ts\/sandbox\/memory=<quantity>$/);
  assert.ok(!(r ?? '').includes('\n'), 'one line');
  assert.equal(memoryRefusal('a', { budgetMiB: 1, limitBytes: undefined, othersBytes: [900 * MIB] }), undefined);
  assert.match(memoryRefusal('a', { budgetMiB: 512, limitBytes: 1024 * MIB, othersBytes: [] }) ?? '', /1024 MiB and 512 of/);
});

test('an app\'s limit: the last resource/memory isolator, the pod\'s first', () => {
  const pod = parsePodManifest({ acKind: 'PodManifest', acVersion: '0.8.11', apps: [], isolators: [{ name: 'resource/memory', value: { limit: '1Gi' } }] });
  assert.equal(memoryLimitBytes(pod, []), 1024 * MIB);
  assert.equal(memoryLimitBytes(pod, [{ name: 'resource/memory', value: { limit: '100Mi' } }]), 100 * MIB);
  const bare = parsePodManifest({ acKind: 'PodManifest', acVersion: '0.8.11', apps: [] });
  assert.equal(memoryLimitBytes(bare, []), undefined);
});
