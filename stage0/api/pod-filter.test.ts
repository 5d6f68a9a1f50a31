// ListPods' filter rules: AND within a filter, OR across filters, "any of" vs "all of" per field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiApp, ApiPod, PodFilter } from './messages.js';
import { podMatches, podMatchesAny } from './pod-filter.js';

const app = (name: string, imageId: string): ApiApp => ({
  name,
  image: { base_format: null, id: imageId, name: '', version: '', import_timestamp: '0', manifest: Buffer.alloc(0), size: '0', annotations: [], labels: [] },
  state: 'APP_STATE_UNDEFINED', exit_code: -1, annotations: [], user_annotations: [], user_labels: [],
});

const pod: ApiPod = {
  id: 'aaaaaaaa-0000-4000-8000-000000000001', pid: 42, state: 'POD_STATE_RUNNING',
  apps: [app('web', 'sha512-1'), app('side', 'sha512-2')],
  networks: [{ name: 'default', ipv4: '172.16.28.2', ipv6: '' }, { name: 'lan', ipv4: '10.0.0.2', ipv6: '' }],
  manifest: Buffer.alloc(0),
  annotations: [{ key: 'team', value: 'ops' }],
  cgroup: '/machine.slice/machine-rkt.scope',
  created_at: '1', started_at: '2', gc_marked_at: '0',
  user_annotations: [{ key: 'owner', value: 'me' }],
  user_labels: [{ key: 'tier', value: 'front' }],
};

const none: PodFilter = {
  ids: [], states: [], app_names: [], image_ids: [], network_names: [], annotations: [], cgroups: [], pod_sub_cgroups: [], user_annotations: [], user_labels: [],
};
const f = (over: Partial<PodFilter>): PodFilter => ({ ...none, ...over });

test('no filters, or an empty filter, match every pod', () => {
  assert.equal(podMatchesAny(pod, []), true);
  assert.equal(podMatches(pod, none), true);
});

test('ids and states: any of them', () => {
  assert.equal(podMatches(pod, f({ ids: ['other', pod.id] })), true);
  assert.equal(podMatches(pod, f({ ids: ['other'] })), false);
  assert.equal(podMatches(pod, f({ states: ['POD_STATE_EXITED', 'POD_STATE_RUNNING'] })), true);
  assert.equal(podMatches(pod, f({ states: ['POD_STATE_PREPARED'] })), false);
});

test('apps, images, networks, annotations, user annotations and labels: all of them', () => {
  assert.equal(podMatches(pod, f({ app_names: ['web', 'side'] })), true);
  assert.equal(podMatches(pod, f({ app_names: ['web', 'db'] })), false);
  assert.equal(podMatches(pod, f({ image_ids: ['sha512-2'] })), true);
  assert.equal(podMatches(pod, f({ image_ids: ['sha512-2', 'sha512-3'] })), false);
  assert.equal(podMatches(pod, f({ network_names: ['lan', 'default'] })), true);
  assert.equal(podMatches(pod, f({ network_names: ['wan'] })), false);
  assert.equal(podMatches(pod, f({ annotations: [{ key: 'team', value: 'ops' }] })), true);
  assert.equal(podMatches(pod, f({ annotations: [{ key: 'team', value: 'dev' }] })), false, 'same key, other value');
  assert.equal(podMatches(pod, f({ user_annotations: [{ key: 'owner', value: 'me' }] })), true);
  assert.equal(podMatches(pod, f({ user_labels: [{ key: 'tier', value: 'front' }, { key: 'x', value: 'y' }] })), false);
  const withAppLabel: ApiPod = { ...pod, apps: [{ ...app('web', 'sha512-1'), user_labels: [{ key: 'x', value: 'y' }] }] };
  assert.equal(podMatches(withAppLabel, f({ user_labels: [{ key: 'tier', value: 'front' }, { key: 'x', value: 'y' }] })), true, 'the pod\'s and an app\'s together');
});

test('cgroups: exactly the pod\'s; pod_sub_cgroups: at or below it; a pod with no cgroup matches neither', () => {
  assert.equal(podMatches(pod, f({ cgroups: ['/machine.slice/machine-rkt.scope'] })), true);
  assert.equal(podMatches(pod, f({ cgroups: ['/machine.slice'] })), false);
  assert.equal(podMatches(pod, f({ pod_sub_cgroups: ['/machine.slice/machine-rkt.scope/app.service'] })), true);
  assert.equal(podMatches(pod, f({ pod_sub_cgroups: ['/machine.slice/machine-rkt.scope'] })), true);
  assert.equal(podMatches(pod, f({ pod_sub_cgroups: ['/machine.slice/machine-rkt.scopex'] })), false, 'a sibling sharing the prefix is not below');
  assert.equal(podMatches({ ...pod, cgroup: '' }, f({ pod_sub_cgroups: ['/'] })), false);
});

test('conditions in one filter AND, filters OR', () => {
  assert.equal(podMatches(pod, f({ ids: [pod.id], states: ['POD_STATE_EXITED'] })), false);
  assert.equal(podMatchesAny(pod, [f({ states: ['POD_STATE_EXITED'] }), f({ app_names: ['web'] })]), true);
  assert.equal(podMatchesAny(pod, [f({ states: ['POD_STATE_EXITED'] }), f({ app_names: ['db'] })]), false);
});
