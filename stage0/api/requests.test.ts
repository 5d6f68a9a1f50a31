// Requests as proto-loader hands them over: defaults fill what is unset, and what a client got wrong is
// INVALID_ARGUMENT with a message naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { GrpcStatusError } from '../grpc/status-error.js';
import { eventFilter, imageFilters, logsRequest, podFilters } from './requests.js';

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof GrpcStatusError && err.grpcCode === status.INVALID_ARGUMENT && message.test(err.message) && !err.message.includes('\n'));
}

test('pod filters: absent lists are empty, states by name', () => {
  assert.deepEqual(podFilters({}), []);
  const [f] = podFilters({ filters: [{ ids: ['u'], states: ['POD_STATE_RUNNING'], user_labels: [{ key: 'k', value: 'v' }] }] });
  assert.deepEqual(f, {
    ids: ['u'], states: ['POD_STATE_RUNNING'], app_names: [], image_ids: [], network_names: [], annotations: [], cgroups: [], pod_sub_cgroups: [],
    user_annotations: [], user_labels: [{ key: 'k', value: 'v' }],
  });
});

test('unknown enum numbers, UNDEFINED, empty keys and wrong types are refused', () => {
  rejects(() => podFilters({ filters: [{ states: [42] }] }), /^ListPods: filters\[0\]\.states\[0\]: unknown pod state 42 \(expected one of POD_STATE_EMBRYO,/);
  rejects(() => podFilters({ filters: [{ states: ['POD_STATE_UNDEFINED'] }] }), /unknown pod state POD_STATE_UNDEFINED/);
  rejects(() => podFilters({ filters: [{ annotations: [{ key: '', value: 'v' }] }] }), /^ListPods: filters\[0\]\.annotations\[0\]\.key is empty$/);
  rejects(() => podFilters({ filters: [{ ids: [1] }] }), /^ListPods: filters\[0\]\.ids\[0\]: expected a string$/);
  rejects(() => eventFilter({ filter: { types: [99] } }), /^ListenEvents: filter\.types\[0\]: unknown event type 99/);
});

test('image filters: times in seconds, strict bounds checked', () => {
  const [f] = imageFilters({ filters: [{ imported_after: '10', imported_before: '20' }] });
  assert.equal(f?.imported_after, 10);
  assert.equal(f?.imported_before, 20);
  rejects(() => imageFilters({ filters: [{ imported_after: '20', imported_before: '20' }] }), /^ListImages: filters\[0\]\.imported_before \(20\) must be later than imported_after \(20\)$/);
  rejects(() => imageFilters({ filters: [{ imported_after: '-1' }] }), /imported_after: -1 is not a time/);
});

test('event filter: unset is no condition', () => {
  assert.deepEqual(eventFilter({ filter: null }), { types: [], ids: [], names: [], since_time: 0, until_time: 0 });
  rejects(() => eventFilter({ filter: { since_time: '5', until_time: '4' } }), /^ListenEvents: filter\.until_time \(4\) must be later than since_time \(5\)$/);
});

test('GetLogs: pod_id required, zeros mean no bound', () => {
  assert.deepEqual(logsRequest({ pod_id: 'abc', app_name: '', lines: 0, follow: false, since_time: '0', until_time: '0' }), { podId: 'abc', follow: false });
  assert.deepEqual(logsRequest({ pod_id: 'abc', app_name: 'web', lines: 5, follow: true, since_time: '7', until_time: '9' }), {
    podId: 'abc', app: 'web', lines: 5, follow: true, since: 7, until: 9,
  });
  rejects(() => logsRequest({ pod_id: '' }), /^GetLogs: pod_id is empty$/);
  rejects(() => logsRequest({ pod_id: 'a', lines: -1 }), /^GetLogs: lines: -1 is not a count of lines$/);
});
