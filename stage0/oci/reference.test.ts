import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatOciReference, parseDockerReference, parseOciReference } from './reference.js';

test('docker:// short names follow Docker Hub rules', () => {
  const r = parseDockerReference('busybox');
  assert.deepEqual([r.host, r.apiHost, r.repository, r.tag], ['docker.io', 'registry-1.docker.io', 'library/busybox', 'latest']);
  assert.equal(parseDockerReference('acme/web:1.2').repository, 'acme/web');
  assert.equal(parseDockerReference('acme/web:1.2').host, 'docker.io');
});

test('a first component with a dot, a port or localhost is a registry host', () => {
  const r = parseDockerReference('127.0.0.1:5000/acme/web:1.0');
  assert.deepEqual([r.host, r.apiHost, r.repository, r.tag], ['127.0.0.1:5000', '127.0.0.1:5000', 'acme/web', '1.0']);
  assert.equal(parseDockerReference('localhost/x').host, 'localhost');
  assert.equal(parseDockerReference('quay.example/x/y').repository, 'x/y');
});

test('a digest pins the manifest; tag and digest may both be given', () => {
  const hex = 'a'.repeat(64);
  const r = parseDockerReference(`h.io/x:1@sha256:${hex}`);
  assert.equal(r.tag, '1');
  assert.equal(r.digest?.text, `sha256:${hex}`);
  assert.equal(parseDockerReference(`h.io/x@sha256:${hex}`).tag, undefined);
});

test('malformed references are usage errors naming the problem', () => {
  assert.throws(() => parseDockerReference('Upper/Case'), /repository component "Upper"/);
  assert.throws(() => parseDockerReference('x@sha256:abc'), /digest after "@"/);
  assert.throws(() => parseDockerReference('x:bad tag'), /not a valid tag/);
  assert.throws(() => parseDockerReference(''), /empty/);
  assert.throws(() => parseOciReference('ftp:x'), /unknown transport/);
});

test('local transports split the path at the first colon, as skopeo does', () => {
  assert.deepEqual(parseOciReference('oci:/tmp/lay:v1'), { transport: 'oci', path: '/tmp/lay', name: 'v1' });
  assert.deepEqual(parseOciReference('oci:/tmp/lay'), { transport: 'oci', path: '/tmp/lay' });
  assert.deepEqual(parseOciReference('oci-archive:a.tar:latest'), { transport: 'oci-archive', path: 'a.tar', name: 'latest' });
  const d = parseOciReference('docker-archive:/x.tar:busybox:1');
  assert.equal(d.transport, 'docker-archive');
  assert.equal(d.transport === 'docker-archive' ? d.ref?.repository : '', 'library/busybox');
  assert.equal(formatOciReference(parseOciReference('docker://busybox')), 'docker://docker.io/library/busybox:latest');
});
