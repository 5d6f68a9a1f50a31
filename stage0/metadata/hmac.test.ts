// Unit tests of the identity primitives: UUID forms, strict base64, sign/verify and the key per instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { canonicalUuid, decodeBase64, newHmacKey, signContent, uuidBytes, verifyContent } from './hmac.js';
import { parseForm } from './form.js';

const U = '6a2b4c8e-1f3d-4b5a-9c7e-0d1f2a3b4c5d';

test('uuid forms', () => {
  assert.equal(canonicalUuid(U.toUpperCase()), U);
  assert.equal(canonicalUuid(U.replace(/-/g, '')), U);
  assert.equal(canonicalUuid('6a2b4c8e-1f3d'), undefined);
  assert.equal(uuidBytes(U).toString('hex'), U.replace(/-/g, ''));
});

test('signature is base64 HMAC-SHA512 over the 16 uuid bytes then the content', () => {
  const key = newHmacKey();
  const content = Buffer.from('hello');
  const want = createHmac('sha512', key).update(Buffer.concat([uuidBytes(U), content])).digest('base64');
  assert.equal(signContent(key, U, content), want);
  assert.ok(verifyContent(key, U, content, Buffer.from(want, 'base64')));
  assert.ok(!verifyContent(newHmacKey(), U, content, Buffer.from(want, 'base64')), 'another instance key fails');
  assert.ok(!verifyContent(key, U, content, Buffer.from(want, 'base64').subarray(1)));
});

test('strict base64', () => {
  assert.deepEqual(decodeBase64('aGk='), Buffer.from('hi'));
  assert.equal(decodeBase64('aGk'), undefined);
  assert.equal(decodeBase64('a Gk='), undefined);
  assert.equal(decodeBase64('aG*='), undefined);
});

test('form decoding keeps raw bytes, "+" is a space, first value wins, bad escapes fail', () => {
  const f = parseForm('content=a+b%2Bc%FF&x=1&x=2&flag')!;
  assert.deepEqual(f.get('content'), Buffer.from([0x61, 0x20, 0x62, 0x2b, 0x63, 0xff]));
  assert.deepEqual(f.get('x'), Buffer.from('1'));
  assert.deepEqual(f.get('flag'), Buffer.alloc(0));
  assert.equal(parseForm('a=%G1'), undefined);
});
