// Unit tests of registration: body validation, the rules a registration must meet, collisions, unregister.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodRegistry, mergeAnnotations } from './pod-registry.js';
import { handleRegistrationRequest, type RegistrationState } from './registration-api.js';
import { MAIN_IMAGE, POD_UUID, SIDE_IMAGE, podManifest } from './testdata.js';

const TOKEN = 'c'.repeat(40);
const OTHER = '11111111-2222-4333-8444-555555555555';

function state(): RegistrationState {
  return { registry: new PodRegistry(), port: 18112 };
}

function body(extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ token: TOKEN, manifest: podManifest(), apps: [{ name: 'main', manifest: MAIN_IMAGE }, { name: 'sidekick', manifest: SIDE_IMAGE }], ...extra }));
}

function put(s: RegistrationState, uuid: string, b: Buffer): { status: number; body: string } {
  return handleRegistrationRequest(s, { method: 'PUT', url: `/pods/${uuid}`, body: b });
}

test('register returns the public port; list and unregister; unregister twice is 404', () => {
  const s = state();
  const r = put(s, POD_UUID, body());
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { port: 18112 });
  assert.deepEqual(JSON.parse(handleRegistrationRequest(s, { method: 'GET', url: '/pods', body: Buffer.alloc(0) }).body), [POD_UUID]);
  assert.ok(s.registry.findByToken(TOKEN));
  assert.equal(handleRegistrationRequest(s, { method: 'DELETE', url: `/pods/${POD_UUID}`, body: Buffer.alloc(0) }).status, 200);
  assert.equal(s.registry.findByToken(TOKEN), undefined);
  assert.equal(handleRegistrationRequest(s, { method: 'DELETE', url: `/pods/${POD_UUID}`, body: Buffer.alloc(0) }).status, 404);
});

test('invalid registrations are 400 with the reason', () => {
  const s = state();
  const cases: [string, Buffer, RegExp][] = [
    [POD_UUID, Buffer.from('{'), /not valid JSON/],
    [POD_UUID, Buffer.from('[]'), /must be a JSON object/],
    ['not-a-uuid', body(), /invalid pod uuid/],
    [POD_UUID.replace(/-/g, ''), body(), /invalid pod uuid/],
    [POD_UUID, body({ token: 'short' }), /invalid token/],
    [POD_UUID, body({ token: 'x'.repeat(31) + '/' }), /invalid token/],
    [POD_UUID, body({ manifest: { acKind: 'PodManifest' } }), /invalid pod manifest/],
    [POD_UUID, body({ apps: [{ name: 'main', manifest: MAIN_IMAGE }] }), /app "sidekick" of the pod manifest has no image manifest/],
    [POD_UUID, body({ apps: [{ name: 'main', manifest: MAIN_IMAGE }, { name: 'sidekick', manifest: SIDE_IMAGE }, { name: 'ghost', manifest: SIDE_IMAGE }] }), /app "ghost" is not in the pod manifest/],
    [POD_UUID, body({ apps: [{ name: 'main', manifest: { acKind: 'ImageManifest' } }, { name: 'sidekick', manifest: SIDE_IMAGE }] }), /app "main": invalid image manifest/],
    [POD_UUID, body({ ips: ['999.1.1.1'] }), /invalid pod ip/],
    [POD_UUID, body({ ips: 'x' }), /body.ips must be an array/],
  ];
  for (const [uuid, b, re] of cases) {
    const r = put(s, uuid, b);
    assert.equal(r.status, 400, `${re}: ${r.body}`);
    assert.match(r.body, re);
  }
  assert.deepEqual(s.registry.uuids(), []);
});

test('a token or IP of another pod is 409; re-registering the same pod replaces it', () => {
  const s = state();
  assert.equal(put(s, POD_UUID, body({ ips: ['10.0.0.2'] })).status, 200);
  assert.equal(put(s, OTHER, body()).status, 409);
  assert.equal(put(s, OTHER, body({ token: 'd'.repeat(40), ips: ['10.0.0.2'] })).status, 409);
  assert.equal(put(s, POD_UUID, body({ token: 'd'.repeat(40) })).status, 200);
  assert.equal(s.registry.findByToken(TOKEN), undefined, 'the old token is gone');
  assert.equal(s.registry.findByIp('10.0.0.2'), undefined, 'the old ip is gone');
  assert.equal(put(s, OTHER, body()).status, 200, 'the old token is free again');
});

test('wrong methods and paths', () => {
  const s = state();
  assert.equal(handleRegistrationRequest(s, { method: 'POST', url: `/pods/${POD_UUID}`, body: body() }).status, 405);
  assert.equal(handleRegistrationRequest(s, { method: 'PUT', url: '/pods', body: body() }).status, 405);
  assert.equal(handleRegistrationRequest(s, { method: 'PUT', url: `/elsewhere/${POD_UUID}`, body: body() }).status, 404);
  assert.equal(handleRegistrationRequest(s, { method: 'PUT', url: '/pods/%E0%A4%A', body: body() }).status, 400);
});

test('annotation merge: pod app annotations replace in place, new ones append', () => {
  assert.deepEqual(
    mergeAnnotations([{ name: 'a', value: '1' }, { name: 'b', value: '2' }], [{ name: 'c', value: '3' }, { name: 'a', value: '9' }]),
    [{ name: 'a', value: '9' }, { name: 'b', value: '2' }, { name: 'c', value: '3' }],
  );
});
