// The v1alpha .proto as grpc-js sees it: rkt's seven rpcs with their paths and streaming kinds, and field
// numbers pinned by encoding against hand-built wire bytes (the numbers are what clients depend on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { MethodDefinition } from '@grpc/grpc-js';
import { apiProtoPath, loadPublicApi } from './load.js';

const RPCS: [string, boolean][] = [
  ['GetInfo', false], ['ListPods', false], ['InspectPod', false], ['ListImages', false], ['InspectImage', false],
  ['ListenEvents', true], ['GetLogs', true],
];

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const key = (field: number, wire: number): number[] => varint(field * 8 + wire);
const vint = (field: number, n: number): number[] => [...key(field, 0), ...varint(n)];
const len = (field: number, body: number[]): number[] => [...key(field, 2), ...varint(body.length), ...body];
const str = (field: number, s: string): number[] => len(field, [...Buffer.from(s)]);
const hex = (bytes: number[] | Buffer): string => Buffer.from(bytes).toString('hex');

function rpc(name: string): MethodDefinition<any, any> {
  const m = loadPublicApi()[name];
  assert.ok(m, `rpc ${name} missing`);
  return m;
}

test('the .proto is found and v1alpha.PublicAPI has exactly rkt\'s rpcs, with their paths and streaming kinds', () => {
  assert.ok(existsSync(apiProtoPath()), apiProtoPath());
  assert.deepEqual(Object.keys(loadPublicApi()), RPCS.map(([n]) => n));
  for (const [name, streaming] of RPCS) {
    const m = rpc(name);
    assert.equal(m.path, `/v1alpha.PublicAPI/${name}`);
    assert.equal(m.requestStream, false, name);
    assert.equal(m.responseStream, streaming, name);
  }
});

test('GetLogsRequest: pod_id 1, app_name 2, lines 3, follow 4, since_time 5, until_time 6', () => {
  const want = [...str(1, 'p'), ...str(2, 'a'), ...vint(3, 7), ...vint(4, 1), ...vint(5, 1700000000), ...vint(6, 1700000001)];
  const req = { pod_id: 'p', app_name: 'a', lines: 7, follow: true, since_time: '1700000000', until_time: '1700000001' };
  assert.equal(hex(rpc('GetLogs').requestSerialize(req)), hex(want));
});

test('ListPodsRequest: filters 1 (PodFilter: ids 1, states 2 as enum numbers, annotations 6 as KeyValue key 1 / value 2), detail 2', () => {
  const filter = [...str(1, 'u'), ...len(2, [4, 6]), ...len(6, [...str(1, 'k'), ...str(2, 'v')]), ...len(101, [...str(1, 'l'), ...str(2, 'w')])];
  const want = [...len(1, filter), ...vint(2, 1)];
  const req = { filters: [{ ids: ['u'], states: ['POD_STATE_RUNNING', 'POD_STATE_EXITED'], annotations: [{ key: 'k', value: 'v' }], user_labels: [{ key: 'l', value: 'w' }] }], detail: true };
  assert.equal(hex(rpc('ListPods').requestSerialize(req)), hex(want));
});

test('Pod: id 1, pid 2 (zigzag), state 3, created_at 9; App exit_code 4 (zigzag)', () => {
  const app = [...str(1, 'a'), ...vint(4, 1)]; // sint32 -1 -> zigzag 1
  const pod = [...str(1, 'u'), ...vint(2, 1), ...vint(3, 3), ...len(4, app), ...vint(9, 5)];
  const res = rpc('InspectPod').responseDeserialize(Buffer.from(len(1, pod)));
  assert.equal(res.pod.id, 'u');
  assert.equal(res.pod.pid, -1);
  assert.equal(res.pod.state, 'POD_STATE_PREPARED');
  assert.equal(res.pod.apps[0].exit_code, -1);
  assert.equal(res.pod.created_at, '5');
});

test('Event: type 1, id 2, from 3, time 4, data 5; ListenEventsResponse events 1', () => {
  const ev = [...vint(1, 8), ...str(2, 'sha512-x'), ...str(3, 'n'), ...vint(4, 9)];
  const res = rpc('ListenEvents').responseDeserialize(Buffer.from(len(1, ev)));
  assert.deepEqual(res.events[0], { type: 'EVENT_TYPE_IMAGE_IMPORTED', id: 'sha512-x', from: 'n', time: '9', data: [] });
});
