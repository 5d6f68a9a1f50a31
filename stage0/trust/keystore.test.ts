// Unit tests for the keystore layout: prefix paths, parent-prefix lookup, layering and masking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { allPrefixKeys, keyringFor, keystoreLayers, prefixChain, scopeDir, validatePrefix, writeTrustedKey } from './keystore.js';

const FP1 = 'a'.repeat(40);
const FP2 = 'b'.repeat(40);
const FP3 = 'c'.repeat(40);

async function tmp(): Promise<{ sys: string; local: string; done: () => Promise<void> }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'keystore-'));
  return { sys: path.join(root, 'sys'), local: path.join(root, 'local'), done: () => fs.rm(root, { recursive: true, force: true }) };
}

async function put(file: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
}

test('a prefix is stored as nested directories, as rkt did', () => {
  assert.equal(scopeDir('/etc/rkt', { kind: 'prefix', prefix: 'example.com/foo/bar' }), '/etc/rkt/trustedkeys/prefix.d/example.com/foo/bar');
  assert.equal(scopeDir('/etc/rkt', { kind: 'root' }), '/etc/rkt/trustedkeys/root.d');
});

test('prefixes that could escape the keystore or are not AC identifiers are refused', () => {
  for (const bad of ['../etc', 'example.com/../x', 'Example.com', '/abs', 'a//b', 'https://example.com/x', 'a b', '']) {
    assert.throws(() => validatePrefix(bad), /invalid prefix/, bad);
  }
  assert.equal(validatePrefix('example.com/app/'), 'example.com/app');
  assert.equal(validatePrefix('127.0.0.1/app'), '127.0.0.1/app');
});

test('prefixChain walks up to the host', () => {
  assert.deepEqual(prefixChain('example.com/foo/bar'), ['example.com/foo/bar', 'example.com/foo', 'example.com']);
});

test('keyringFor takes root keys and keys of the name and its parents, not siblings or children', async () => {
  const t = await tmp();
  try {
    const layers = keystoreLayers({ systemConfig: t.sys, localConfig: t.local });
    await put(path.join(t.local, 'trustedkeys/root.d', FP1), 'k');
    await put(path.join(t.local, 'trustedkeys/prefix.d/example.com', FP2), 'k');
    await put(path.join(t.local, 'trustedkeys/prefix.d/example.com/foo', FP3), 'k');
    await put(path.join(t.local, 'trustedkeys/prefix.d/example.com/foobar', 'd'.repeat(40)), 'k');
    await put(path.join(t.local, 'trustedkeys/prefix.d/example.com/foo/bar/baz', 'e'.repeat(40)), 'k');
    await put(path.join(t.local, 'trustedkeys/prefix.d/example.com/foo', 'README'), 'not a key');
    const ring = await keyringFor(layers, 'example.com/foo/bar');
    assert.deepEqual(ring.trusted.map((e) => e.fingerprint).sort(), [FP1, FP2, FP3]);
    const other = await keyringFor(layers, 'example.org/foo');
    assert.deepEqual(other.trusted.map((e) => e.fingerprint), [FP1]);
    const all = await allPrefixKeys(layers);
    assert.equal(all.length, 4);
  } finally {
    await t.done();
  }
});

test('a zero-byte local file masks the vendor key at the same place only', async () => {
  const t = await tmp();
  try {
    const layers = keystoreLayers({ systemConfig: t.sys, localConfig: t.local });
    await put(path.join(t.sys, 'trustedkeys/prefix.d/example.com/app', FP1), 'vendor');
    await put(path.join(t.sys, 'trustedkeys/root.d', FP2), 'vendor');
    await put(path.join(t.local, 'trustedkeys/prefix.d/example.com/app', FP1), '');
    const ring = await keyringFor(layers, 'example.com/app');
    assert.deepEqual(ring.trusted.map((e) => e.fingerprint), [FP2]);
    assert.equal(ring.masked.length, 1);
    assert.equal(ring.masked[0]?.masked.layer, 'system');
    assert.equal(ring.masked[0]?.mask.layer, 'local');
    // A local key file with content overrides the vendor copy instead of masking it.
    await put(path.join(t.local, 'trustedkeys/root.d', FP2), 'local');
    const again = await keyringFor(layers, 'example.com/app');
    assert.equal(again.trusted.find((e) => e.fingerprint === FP2)?.layer, 'local');
  } finally {
    await t.done();
  }
});

test('the user config layer is read last', async () => {
  const t = await tmp();
  try {
    const user = path.join(t.local, '..', 'user');
    const layers = keystoreLayers({ systemConfig: t.sys, localConfig: t.local, userConfig: user });
    assert.deepEqual(layers.map((l) => l.name), ['system', 'local', 'user']);
    await put(path.join(t.local, 'trustedkeys/root.d', FP1), 'k');
    await put(path.join(user, 'trustedkeys/root.d', FP1), '');
    const ring = await keyringFor(layers, 'example.com');
    assert.equal(ring.trusted.length, 0);
  } finally {
    await t.done();
  }
});

test('writeTrustedKey writes a 0644 file named by the fingerprint', async () => {
  const t = await tmp();
  try {
    const where = await writeTrustedKey(t.local, { kind: 'prefix', prefix: 'example.com/app' }, FP1.toUpperCase(), 'armored');
    assert.equal(where, path.join(t.local, 'trustedkeys/prefix.d/example.com/app', FP1));
    const st = await fs.stat(where);
    assert.equal(st.mode & 0o777, 0o644);
    assert.equal(await fs.readFile(where, 'utf8'), 'armored');
    await assert.rejects(writeTrustedKey(t.local, { kind: 'root' }, 'nothex', 'x'), /invalid key fingerprint/);
  } finally {
    await t.done();
  }
});

test('docker reference prefixes: the port colon is percent-encoded on disk and read back', async () => {
  assert.equal(validatePrefix('127.0.0.1:5000/acme'), '127.0.0.1:5000/acme');
  assert.equal(validatePrefix('localhost:5000'), 'localhost:5000');
  assert.equal(validatePrefix('[::1]:5000/app'), '[::1]:5000/app');
  assert.equal(scopeDir('/etc/rkt', { kind: 'prefix', prefix: '127.0.0.1:5000/acme/app' }), '/etc/rkt/trustedkeys/prefix.d/127.0.0.1%3a5000/acme/app');
  assert.equal(scopeDir('/etc/rkt', { kind: 'prefix', prefix: '[::1]:5000' }), '/etc/rkt/trustedkeys/prefix.d/%5b%3a%3a1%5d%3a5000');
  for (const bad of ['127.0.0.1:5000/../x', '127.0.0.1:5000//x', 'host:99999/x', 'host:5000/App', 'host:/x', '127.0.0.1:5000/a%3ab', 'host:5000/x:tag', 'host:5000/x@sha256:00']) {
    assert.throws(() => validatePrefix(bad), /invalid prefix/, bad);
  }
  assert.deepEqual(prefixChain('127.0.0.1:5000/acme/app'), ['127.0.0.1:5000/acme/app', '127.0.0.1:5000/acme', '127.0.0.1:5000']);
  const t = await tmp();
  try {
    const layers = keystoreLayers({ systemConfig: t.sys, localConfig: t.local });
    const id = 'd'.repeat(64);
    const where = await writeTrustedKey(t.local, { kind: 'prefix', prefix: '127.0.0.1:5000/acme' }, id, 'pem', 'sigstore');
    assert.equal(where, path.join(t.local, 'trustedkeys/prefix.d/127.0.0.1%3a5000/acme', `sigstore-${id}.pem`));
    await writeTrustedKey(t.local, { kind: 'prefix', prefix: '127.0.0.1:5000' }, FP1, 'armored');
    const sig = await keyringFor(layers, '127.0.0.1:5000/acme/app', 'sigstore');
    assert.deepEqual(sig.trusted.map((e) => [e.kind, e.fingerprint]), [['sigstore', id]]);
    // OpenPGP lookups never see sigstore files (ACI verification reads every file as OpenPGP).
    const pgp = await keyringFor(layers, '127.0.0.1:5000/acme/app');
    assert.deepEqual(pgp.trusted.map((e) => [e.kind, e.fingerprint]), [['openpgp', FP1]]);
    assert.deepEqual((await allPrefixKeys(layers, 'sigstore')).map((e) => e.scope), [{ kind: 'prefix', prefix: '127.0.0.1:5000/acme' }]);
    // Another port is another registry.
    assert.equal((await keyringFor(layers, '127.0.0.1:5001/acme/app', 'sigstore')).trusted.length, 0);
    // An empty local file masks a vendor sigstore key like an OpenPGP one.
    await writeTrustedKey(t.sys, { kind: 'root' }, 'e'.repeat(64), 'vendor', 'sigstore');
    await put(path.join(t.local, 'trustedkeys/root.d', `sigstore-${'e'.repeat(64)}.pem`), '');
    const masked = await keyringFor(layers, 'example.com/x', 'sigstore');
    assert.equal(masked.trusted.length, 0);
    assert.equal(masked.masked.length, 1);
    await assert.rejects(writeTrustedKey(t.local, { kind: 'root' }, FP1, 'x', 'sigstore'), /invalid key fingerprint/);
  } finally {
    await t.done();
  }
});
