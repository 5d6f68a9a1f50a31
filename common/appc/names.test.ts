// Unit tests for AC Name / AC Identifier rules, image IDs, SemVer and name sanitizing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RktError } from '../errors.js';
import {
  checkACIdentifier, checkDependencyImageId, checkImageId, checkSemVer, defaultAppName, isACIdentifier, isACName,
  sanitizeACName, validateACIdentifier, validateACName,
} from './names.js';
import { SchemaError } from './reader.js';

test('AC Identifiers: valid examples from the spec rules', () => {
  for (const s of ['a', '0', 'example.com/app', 'example.com/~user/app_v1', 'sub-domain.example.com/org/product/release',
    'coreos.com/rkt/stage1-nspawn', 'a.b_c~d/e-f']) {
    assert.ok(isACIdentifier(s), s);
  }
});

test('AC Identifiers: invalid characters, case and edges are rejected', () => {
  for (const s of ['', 'Foo', 'foo_', '_foo', '/foo', 'foo/', 'foo bar', 'föö', 'foo:bar', 'foo\n', '-a', 'a.', '~a']) {
    assert.equal(isACIdentifier(s), false, JSON.stringify(s));
  }
});

test('AC Identifiers: consecutive separators pass, like appc\'s reference code', () => {
  assert.ok(isACIdentifier('example..com/app'));
  assert.ok(isACIdentifier('a--b'));
});

test('AC Names: DNS-label style', () => {
  for (const s of ['a', 'etcd', 'ace-validator-main', 'a1-b2', 'a--b']) assert.ok(isACName(s), s);
  for (const s of ['', 'A', 'a_b', 'a.b', 'a/b', '-a', 'a-', 'a b']) assert.equal(isACName(s), false, s);
});

test('checkACIdentifier reports the value and the rule', () => {
  assert.throws(() => checkACIdentifier('Foo_Bar', 'name'), (err: unknown) => {
    assert.ok(err instanceof SchemaError);
    assert.equal(err.message, 'name "Foo_Bar": must match [a-z0-9]+([-._~/][a-z0-9]+)*');
    return true;
  });
  assert.throws(() => checkACIdentifier('', 'labels[0].name'), /labels\[0\]\.name: must not be empty/);
});

test('validateACName throws a NAME_INVALID RktError naming the field', () => {
  assert.equal(validateACName('web', 'app name'), 'web');
  assert.throws(() => validateACName('Web_1', 'app name'), (err: unknown) => {
    assert.ok(err instanceof RktError);
    assert.equal(err.code, 'NAME_INVALID');
    assert.equal(err.message, 'invalid app name "Web_1": must match [a-z0-9]+(-[a-z0-9]+)*');
    assert.ok(err.hint);
    return true;
  });
  assert.equal(validateACIdentifier('example.com/app', 'image name'), 'example.com/app');
  assert.throws(() => validateACIdentifier('Example.com', 'image name'), /invalid image name "Example.com"/);
});

test('sanitizeACName and defaultAppName', () => {
  assert.equal(sanitizeACName('Hello_World!'), 'hello-world');
  assert.equal(sanitizeACName('--x--'), 'x');
  assert.equal(sanitizeACName('___'), undefined);
  assert.equal(defaultAppName('coreos.com/etcd'), 'etcd');
  assert.equal(defaultAppName('example.com/ace-validator-main'), 'ace-validator-main');
  assert.equal(defaultAppName('example.com/my_app.v2/'), 'my-app-v2');
  assert.equal(defaultAppName('busybox'), 'busybox');
});

test('image IDs in pod manifests must be sha512-<hex>', () => {
  const full = `sha512-${'ab'.repeat(64)}`;
  assert.equal(checkImageId(full, 'id'), full);
  assert.equal(checkImageId('sha512-0123456789abcdef0123456789abcdef', 'id'), 'sha512-0123456789abcdef0123456789abcdef');
  for (const s of ['sha256-abc', 'sha512-', 'sha512-XYZ', 'sha512-../../etc', `sha512-${'a'.repeat(129)}`, 'abc']) {
    assert.throws(() => checkImageId(s, 'id'), SchemaError, s);
  }
});

test('dependency image IDs follow appc\'s lax hash rule', () => {
  assert.equal(checkDependencyImageId('sha512-...', 'imageID'), 'sha512-...');
  for (const s of ['sha256-abc', 'sha512-', 'sha512-a-b', 'sha512']) {
    assert.throws(() => checkDependencyImageId(s, 'imageID'), /must be sha512-<hash>/, s);
  }
});

test('acVersion must be SemVer and not zero', () => {
  for (const s of ['0.8.11', '1.0.0', '0.3.0', '1.2.3-rc.1+build.5', '0.0.0-alpha']) assert.equal(checkSemVer(s, 'v'), s);
  for (const s of ['0.8', 'v0.8.11', '01.0.0', '1.0.0-', '', '0.0.0']) assert.throws(() => checkSemVer(s, 'v'), SchemaError, s);
});
