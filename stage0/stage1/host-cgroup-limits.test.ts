// Finding out whether a pod can have the memory and cpu controllers, against fake cgroup trees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuIsolator, cpuSharesIsolator, makeIsolator, memoryIsolator, type ImageManifest } from '../../common/appc/index.js';
import { ANNOTATION_HOST_CGROUP_LIMITS } from '../../common/stage1-contract.js';
import { missingControllers, unenforceableLimitsWarning, wantedControllers, type CgroupHost } from './host-cgroup-limits.js';

function fakeRoot(t: { after(fn: () => void): void }, files: Record<string, string>, dirs: string[] = []): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rkt-cgroup-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const d of dirs) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

const both = new Set(['memory', 'cpu'] as const);
const host = (root: string, own = '/', systemdManaged = false): CgroupHost => ({ root, selfCgroup: `12:pids:/\n0::${own}\n`, systemdManaged });

test('a hybrid host whose controllers are all on v1 (this build machine) has neither, and says where they are', (t) => {
  const root = fakeRoot(t, { 'unified/cgroup.controllers': '\n' }, ['memory', 'cpu']);
  const m = missingControllers(host(root), both);
  assert.deepEqual([...m.keys()], ['memory', 'cpu']);
  assert.match(m.get('memory') ?? '', new RegExp(`${root}/unified/cgroup.controllers does not list it; it is bound to the cgroup v1 hierarchy ${root}/memory`));
  assert.match(m.get('cpu') ?? '', /cgroup v1 hierarchy .*\/cpu$/);
});

test('no cgroup2 at all: every wanted controller is missing; nothing wanted: nothing is checked', (t) => {
  const root = fakeRoot(t, {}, ['memory']);
  assert.match(missingControllers(host(root), new Set(['memory'])).get('memory') ?? '', /no cgroup2 hierarchy is mounted/);
  assert.equal(missingControllers(host(root), new Set()).size, 0);
});

test('a cgroup2 host: the root must have the controller, and rkt\'s own cgroup must pass it on unless systemd delegates', (t) => {
  const root = fakeRoot(t, {
    'cgroup.controllers': 'cpuset cpu io memory pids\n',
    'cgroup.subtree_control': 'cpu memory pids\n',
    'user.slice/session-1.scope/cgroup.subtree_control': '\n',
    'ci/cgroup.subtree_control': 'cpu memory\n',
  });
  assert.equal(missingControllers(host(root, '/'), both).size, 0);
  assert.equal(missingControllers(host(root, '/ci'), both).size, 0);
  const session = missingControllers(host(root, '/user.slice/session-1.scope'), both);
  assert.match(session.get('memory') ?? '', /not delegated below rkt's own cgroup.*session-1\.scope\/cgroup\.subtree_control/);
  // systemd gives the pod's scope what the root has
  assert.equal(missingControllers(host(root, '/user.slice/session-1.scope', true), both).size, 0);

  const noMemory = fakeRoot(t, { 'cgroup.controllers': 'cpu pids\n', 'cgroup.subtree_control': 'cpu pids\n' });
  assert.deepEqual([...missingControllers(host(noMemory, '/', true), both).keys()], ['memory']);
});

test('the limits that need a controller: memory limit (not request), cpu limit, cpu shares', () => {
  assert.deepEqual([...wantedControllers([[memoryIsolator('64M')], []])], ['memory']);
  assert.deepEqual([...wantedControllers([[cpuIsolator('500m')]])], ['cpu']);
  assert.deepEqual([...wantedControllers([[cpuSharesIsolator(512)]])], ['cpu']);
  assert.deepEqual([...wantedControllers([[makeIsolator('resource/memory', { request: '1G' })]])], []);
});

test('one warning line, only for a stage1 that enforces limits in the host\'s cgroups', (t) => {
  const root = fakeRoot(t, { 'unified/cgroup.controllers': '' }, ['memory', 'cpu']);
  const stage1 = (annotated: boolean): ImageManifest => ({
    acKind: 'ImageManifest', acVersion: '0.8.11', name: 'example.com/stage1', labels: [], dependencies: [], pathWhitelist: [],
    annotations: annotated ? [{ name: ANNOTATION_HOST_CGROUP_LIMITS, value: 'true' }] : [],
  });
  const apps = [[memoryIsolator('64M'), cpuIsolator('1')], []];
  const w = unenforceableLimitsWarning(stage1(true), apps, host(root));
  assert.ok(w !== undefined);
  assert.doesNotMatch(w, /\n/);
  assert.match(w, /^warning: the apps' memory and cpu limits cannot be enforced on this host/);
  assert.match(w, /no memory controller: .*; no cpu controller: /);
  assert.equal(unenforceableLimitsWarning(stage1(false), apps, host(root)), undefined);
  assert.equal(unenforceableLimitsWarning(stage1(true), [[]], host(root)), undefined);
});
