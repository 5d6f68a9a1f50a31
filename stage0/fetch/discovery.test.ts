// Unit tests for discovery meta parsing, template filling, app strings and Cache-Control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAppString, formatAppRef } from './app-string.js';
import { discoveryPortFromEnv, parseDiscoveryMeta, renderTemplate, withDefaultLabels } from './discovery.js';
import { authHeader, parseCacheMaxAge } from './http.js';
import { classifyImageString } from './index.js';
import type { AuthEntry } from '../config/config.js';

test('parseDiscoveryMeta reads both tags, in any attribute order and quoting', () => {
  const html = `<html><head>
    <meta name="ac-discovery" content="example.com https://example.com/{os}/{arch}/{name}-{version}.{ext}">
    <META content='example.com/sub hdfs://h/{name}.{ext}' name='ac-discovery'/>
    <meta name="ac-discovery-pubkeys" content="example.com https://example.com/pubkeys.gpg">
    <meta name="description" content="not ours">
    <meta name="ac-discovery" content="missing-template">
    <meta name="ac-discovery" content="example.com https://e.com/a?x=1&amp;name={name}&amp;ext={ext}">
  </head></html>`;
  const meta = parseDiscoveryMeta(html);
  assert.deepEqual(meta.endpoints, [
    { prefix: 'example.com', template: 'https://example.com/{os}/{arch}/{name}-{version}.{ext}' },
    { prefix: 'example.com/sub', template: 'hdfs://h/{name}.{ext}' },
    { prefix: 'example.com', template: 'https://e.com/a?x=1&name={name}&ext={ext}' },
  ]);
  assert.deepEqual(meta.pubkeys, [{ prefix: 'example.com', url: 'https://example.com/pubkeys.gpg' }]);
});

test('renderTemplate fills placeholders, defaults version to latest, drops templates with unknown labels', () => {
  const ref = withDefaultLabels({ name: 'example.com/reduce-worker', labels: { version: '1.0.0' } });
  const t = 'https://storage.example.com/{os}/{arch}/{name}-{version}.{ext}';
  assert.equal(renderTemplate(t, ref, 'aci'), 'https://storage.example.com/linux/amd64/example.com/reduce-worker-1.0.0.aci');
  assert.equal(renderTemplate(t, ref, 'aci.asc'), 'https://storage.example.com/linux/amd64/example.com/reduce-worker-1.0.0.aci.asc');
  assert.equal(renderTemplate('https://x/{name}-{version}.{ext}', { name: 'a.com/b', labels: {} }, 'aci'), 'https://x/a.com/b-latest.aci');
  assert.equal(renderTemplate('https://x/{name}-{channel}.{ext}', ref, 'aci'), undefined);
  // A label called "name" never replaces the image name.
  assert.equal(renderTemplate('https://x/{name}.{ext}', { name: 'a.com/b', labels: { name: 'evil' } }, 'aci'), 'https://x/a.com/b.aci');
});

test('parseAppString reads name, version and labels', () => {
  assert.deepEqual(parseAppString('example.com/app:1.0,os=linux'), { name: 'example.com/app', labels: { version: '1.0', os: 'linux' } });
  assert.deepEqual(parseAppString('example.com/app'), { name: 'example.com/app', labels: {} });
  assert.equal(formatAppRef(parseAppString('example.com/app:1.0,os=linux')), 'example.com/app:1.0,os=linux');
  for (const bad of ['Example.com/app', 'example.com/app:', 'example.com/app:1:2', 'example.com/app,os', 'a.com/b:1,version=2', 'a.com/b,os=x,os=y']) {
    assert.throws(() => parseAppString(bad), /invalid image/, bad);
  }
});

test('parseCacheMaxAge follows no-store, no-cache and max-age', () => {
  assert.equal(parseCacheMaxAge(undefined), 0);
  assert.equal(parseCacheMaxAge('max-age=60'), 60);
  assert.equal(parseCacheMaxAge('public, max-age=3600'), 3600);
  assert.equal(parseCacheMaxAge('max-age=60, no-cache'), 0);
  assert.equal(parseCacheMaxAge('no-store'), 0);
});

test('authHeader picks basic or bearer credentials by host', () => {
  const auth: AuthEntry[] = [
    { domains: ['a.example'], type: 'basic', credentials: { user: 'u', password: 'p' }, source: 'x' },
    { domains: ['b.example:8443'], type: 'oauth', credentials: { token: 't0k' }, source: 'y' },
  ];
  assert.equal(authHeader(new URL('https://a.example/x'), auth), 'Basic ' + Buffer.from('u:p').toString('base64'));
  assert.equal(authHeader(new URL('https://b.example:8443/x'), auth), 'Bearer t0k');
  assert.equal(authHeader(new URL('https://c.example/x'), auth), undefined);
});

test('discoveryPortFromEnv validates RKT_DISCOVERY_PORT', () => {
  assert.equal(discoveryPortFromEnv({}), undefined);
  assert.equal(discoveryPortFromEnv({ RKT_DISCOVERY_PORT: '8443' }), 8443);
  assert.throws(() => discoveryPortFromEnv({ RKT_DISCOVERY_PORT: '99999' }), /RKT_DISCOVERY_PORT/);
});

test('classifyImageString tells ids, paths, URLs and names apart', () => {
  assert.equal(classifyImageString('sha512-abcd'), 'id');
  assert.equal(classifyImageString('/tmp/x.aci'), 'path');
  assert.equal(classifyImageString('./x'), 'path');
  assert.equal(classifyImageString('file:///tmp/x.aci'), 'path');
  assert.equal(classifyImageString('https://example.com/x.aci'), 'url');
  assert.equal(classifyImageString('example.com/app:1.0'), 'name');
  assert.equal(classifyImageString('docker://busybox'), 'oci');
  assert.equal(classifyImageString('oci:/tmp/layout:1.0'), 'oci');
  assert.equal(classifyImageString('docker-archive:/tmp/x.tar'), 'oci');
});
