// Unit tests of the app-facing API: every route's status, content type and body, identification by token
// and by source IP, HMAC sign/verify, and the error cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_TYPE_JSON, CONTENT_TYPE_TEXT } from './constants.js';
import { newHmacKey } from './hmac.js';
import { PodRegistry } from './pod-registry.js';
import { handlePublicRequest, redactTarget, type MdsRequest, type MdsResponse, type PublicApiState } from './public-api.js';
import { ID_MAIN, ID_SIDE, MAIN_IMAGE, MAIN_MERGED, POD_UUID, SIDE_IMAGE, podManifest } from './testdata.js';

const TOKEN = 'f'.repeat(64);
const TOKEN2 = 'e'.repeat(64);
const UUID2 = '11111111-2222-4333-8444-555555555555';

function setup(): PublicApiState {
  const registry = new PodRegistry();
  registry.register({ uuid: POD_UUID, token: TOKEN, manifest: podManifest(), apps: [{ name: 'main', manifest: MAIN_IMAGE }, { name: 'sidekick', manifest: SIDE_IMAGE }] });
  registry.register({ uuid: UUID2, token: TOKEN2, manifest: podManifest(false), apps: [{ name: 'main', manifest: MAIN_IMAGE }, { name: 'sidekick', manifest: SIDE_IMAGE }], ips: ['10.9.8.7'] });
  return { registry, hmacKey: newHmacKey() };
}

function req(url: string, init: Partial<MdsRequest> = {}): MdsRequest {
  return { method: 'GET', url, remoteAddress: '127.0.0.1', contentType: undefined, body: Buffer.alloc(0), ...init };
}

function get(s: PublicApiState, path: string, token = TOKEN): MdsResponse {
  return handlePublicRequest(s, req(`/${token}/acMetadata/v1${path}`));
}

function post(s: PublicApiState, path: string, form: Record<string, string>, token = TOKEN): MdsResponse {
  return handlePublicRequest(s, req(`/${token}/acMetadata/v1${path}`, {
    method: 'POST', contentType: 'application/x-www-form-urlencoded', body: Buffer.from(new URLSearchParams(form).toString()),
  }));
}

function ok(r: MdsResponse, type: string, body: string): void {
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['Content-Type'], type);
  assert.equal(r.body, body);
}

test('pod endpoints: manifest, uuid, annotations (with and without trailing slash), one annotation', () => {
  const s = setup();
  ok(get(s, '/pod/manifest'), CONTENT_TYPE_JSON, JSON.stringify(podManifest()));
  ok(get(s, '/pod/uuid'), CONTENT_TYPE_TEXT, POD_UUID);
  const annos = JSON.stringify(podManifest()['annotations']);
  ok(get(s, '/pod/annotations'), CONTENT_TYPE_JSON, annos);
  ok(get(s, '/pod/annotations/'), CONTENT_TYPE_JSON, annos);
  ok(get(s, '/pod/annotations/ip-address'), CONTENT_TYPE_TEXT, '10.1.2.3');
  ok(get(s, '/pod/annotations/example.com/owner'), CONTENT_TYPE_TEXT, 'ops');
  ok(get(s, '/pod/annotations/example.com%2Fowner'), CONTENT_TYPE_TEXT, 'ops');
  assert.equal(get(s, '/pod/annotations/nope').status, 404);
});

test('a pod manifest without annotations serves null, exactly as its manifest has none', () => {
  const s = setup();
  ok(get(s, '/pod/annotations', TOKEN2), CONTENT_TYPE_JSON, 'null');
  assert.equal(get(s, '/pod/annotations/ip-address', TOKEN2).status, 404);
});

test('app endpoints: merged annotations in order, one annotation, image manifest and id', () => {
  const s = setup();
  ok(get(s, '/apps/main/annotations'), CONTENT_TYPE_JSON, JSON.stringify(MAIN_MERGED));
  ok(get(s, '/apps/main/annotations/'), CONTENT_TYPE_JSON, JSON.stringify(MAIN_MERGED));
  ok(get(s, '/apps/main/annotations/role'), CONTENT_TYPE_TEXT, 'pod-role');
  ok(get(s, '/apps/main/annotations/example.com/extra'), CONTENT_TYPE_TEXT, 'x');
  ok(get(s, '/apps/main/image/manifest'), CONTENT_TYPE_JSON, JSON.stringify(MAIN_IMAGE));
  ok(get(s, '/apps/main/image/id'), CONTENT_TYPE_TEXT, ID_MAIN);
  ok(get(s, '/apps/sidekick/image/id'), CONTENT_TYPE_TEXT, ID_SIDE);
  ok(get(s, '/apps/sidekick/annotations'), CONTENT_TYPE_JSON, '[]');
  assert.equal(get(s, '/apps/main/annotations/missing').status, 404);
  const unknown = get(s, '/apps/nosuchapp/image/id');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body, /app "nosuchapp" not found/);
});

test('unknown token and unregistered address are 401; unknown paths 404; wrong methods 405', () => {
  const s = setup();
  const r = get(s, '/pod/uuid', 'a'.repeat(64));
  assert.equal(r.status, 401);
  assert.equal(r.headers['Content-Type'], CONTENT_TYPE_TEXT);
  assert.equal(handlePublicRequest(s, req('/acMetadata/v1/pod/uuid', { remoteAddress: '10.0.0.1' })).status, 401);
  assert.equal(get(s, '/pod/nothing').status, 404);
  assert.equal(get(s, '/pod/uuid/extra').status, 404);
  assert.equal(get(s, '/other').status, 404);
  assert.equal(get(s, '/apps/main/image/other').status, 404);
  assert.equal(handlePublicRequest(s, req('/')).status, 404);
  assert.equal(handlePublicRequest(s, req(`/${TOKEN}/acMetadata/v2/pod/uuid`)).status, 404);
  assert.equal(handlePublicRequest(s, req(`/${TOKEN}/acMetadata/v1/pod/../pod/uuid`)).status, 404);
  assert.equal(handlePublicRequest(s, req(`/${TOKEN}/acMetadata/v1/pod/%E0%A4%A`)).status, 404);
  const m = handlePublicRequest(s, req(`/${TOKEN}/acMetadata/v1/pod/manifest`, { method: 'POST' }));
  assert.equal(m.status, 405);
  assert.equal(m.headers['Allow'], 'GET');
  const g = get(s, '/pod/hmac/sign');
  assert.equal(g.status, 405);
  assert.equal(g.headers['Allow'], 'POST');
});

test('a pod registered with an IP is identified by source address without a token (also IPv4-mapped)', () => {
  const s = setup();
  ok(handlePublicRequest(s, req('/acMetadata/v1/pod/uuid', { remoteAddress: '10.9.8.7' })), CONTENT_TYPE_TEXT, UUID2);
  ok(handlePublicRequest(s, req('/acMetadata/v1/pod/uuid', { remoteAddress: '::ffff:10.9.8.7' })), CONTENT_TYPE_TEXT, UUID2);
});

test('hmac: sign then verify succeeds from any pod; tampered content, signature or uuid is 403', () => {
  const s = setup();
  const signed = post(s, '/pod/hmac/sign', { content: 'Old MacDonald Had A Farm' });
  assert.equal(signed.status, 200);
  assert.equal(signed.headers['Content-Type'], CONTENT_TYPE_TEXT);
  assert.match(signed.body, /^[A-Za-z0-9+/]{86}==$/, 'base64 of 64 bytes');
  const good = { content: 'Old MacDonald Had A Farm', uuid: POD_UUID, signature: signed.body };
  ok(post(s, '/pod/hmac/verify', good), CONTENT_TYPE_TEXT, '');
  ok(post(s, '/pod/hmac/verify', good, TOKEN2), CONTENT_TYPE_TEXT, '');
  ok(post(s, '/pod/hmac/verify', { ...good, uuid: POD_UUID.replace(/-/g, '').toUpperCase() }), CONTENT_TYPE_TEXT, '');
  assert.equal(post(s, '/pod/hmac/verify', { ...good, content: 'Old MacDonald Had A Farm!' }).status, 403);
  assert.equal(post(s, '/pod/hmac/verify', { ...good, uuid: UUID2 }).status, 403);
  const flipped = (signed.body[0] === 'A' ? 'B' : 'A') + signed.body.slice(1);
  assert.equal(post(s, '/pod/hmac/verify', { ...good, signature: flipped }).status, 403);
  assert.equal(post(s, '/pod/hmac/verify', { ...good, signature: 'AAAA' }).status, 403);
  // The same content signed by another pod gives another signature.
  assert.notEqual(post(s, '/pod/hmac/sign', { content: good.content }, TOKEN2).body, signed.body);
});

test('hmac: missing or malformed fields are 400; non-form bodies 415', () => {
  const s = setup();
  assert.equal(post(s, '/pod/hmac/sign', {}).status, 400);
  assert.equal(post(s, '/pod/hmac/sign', { content: '' }).status, 400);
  const sig = post(s, '/pod/hmac/sign', { content: 'c' }).body;
  assert.equal(post(s, '/pod/hmac/verify', { content: 'c', signature: sig }).status, 400);
  assert.equal(post(s, '/pod/hmac/verify', { content: 'c', uuid: 'not-a-uuid', signature: sig }).status, 400);
  assert.equal(post(s, '/pod/hmac/verify', { uuid: POD_UUID, signature: sig }).status, 400);
  assert.equal(post(s, '/pod/hmac/verify', { content: 'c', uuid: POD_UUID, signature: 'not base64!' }).status, 400);
  const json = handlePublicRequest(s, req(`/${TOKEN}/acMetadata/v1/pod/hmac/sign`, { method: 'POST', contentType: 'application/json', body: Buffer.from('{"content":"c"}') }));
  assert.equal(json.status, 415);
});

test('hmac: content is signed as raw bytes, from the body or the query string', () => {
  const s = setup();
  const bin = handlePublicRequest(s, req(`/${TOKEN}/acMetadata/v1/pod/hmac/sign`, { method: 'POST', contentType: 'application/x-www-form-urlencoded', body: Buffer.from('content=%FF%00%C3') }));
  assert.equal(bin.status, 200);
  const q = handlePublicRequest(s, req(`/${TOKEN}/acMetadata/v1/pod/hmac/sign?content=%FF%00%C3`, { method: 'POST' }));
  assert.equal(q.body, bin.body);
  const v = handlePublicRequest(s, req(`/${TOKEN}/acMetadata/v1/pod/hmac/verify`, {
    method: 'POST', contentType: 'application/x-www-form-urlencoded; charset=utf-8',
    body: Buffer.from(`content=%FF%00%C3&uuid=${POD_UUID}&signature=${encodeURIComponent(bin.body)}`),
  }));
  assert.equal(v.status, 200);
});

test('logs never show the token', () => {
  assert.equal(redactTarget(`/${TOKEN}/acMetadata/v1/pod/uuid`), '/<token>/acMetadata/v1/pod/uuid');
  assert.equal(redactTarget('/acMetadata/v1/pod/uuid'), '/acMetadata/v1/pod/uuid');
});
