import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWwwAuthenticate } from './www-authenticate.js';

test('a registry Bearer challenge', () => {
  const c = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
  assert.deepEqual(c, [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }]);
});

test('quoted values keep commas, escaped quotes and backslashes', () => {
  const [c] = parseWwwAuthenticate('Bearer realm="https://h/t,x", scope="repository:a/b:pull,push" , service="a \\"quoted\\" \\\\ one"');
  assert.deepEqual(c?.params, { realm: 'https://h/t,x', scope: 'repository:a/b:pull,push', service: 'a "quoted" \\ one' });
});

test('scheme and parameter names are case-insensitive; tokens unquoted', () => {
  const [c] = parseWwwAuthenticate('BASIC Realm=registry, charset="UTF-8"');
  assert.deepEqual(c, { scheme: 'basic', params: { realm: 'registry', charset: 'UTF-8' } });
});

test('several challenges in one header (as node joins repeated headers)', () => {
  const c = parseWwwAuthenticate('Basic realm="a, b", Bearer realm="https://t/x",service="s", Negotiate');
  assert.equal(c.length, 3);
  assert.deepEqual(c[0], { scheme: 'basic', params: { realm: 'a, b' } });
  assert.deepEqual(c[1], { scheme: 'bearer', params: { realm: 'https://t/x', service: 's' } });
  assert.deepEqual(c[2], { scheme: 'negotiate', params: {} });
});

test('token68 forms, with padding, are not mistaken for parameters', () => {
  assert.deepEqual(parseWwwAuthenticate('Negotiate abc+/d=='), [{ scheme: 'negotiate', params: {}, token68: 'abc+/d==' }]);
  assert.deepEqual(parseWwwAuthenticate('Negotiate abc==, Basic realm=x'), [
    { scheme: 'negotiate', params: {}, token68: 'abc==' },
    { scheme: 'basic', params: { realm: 'x' } },
  ]);
});

test('whitespace around "=" and empty list elements are tolerated', () => {
  const [c] = parseWwwAuthenticate(' ,  Bearer  realm = "r" ,, service= s ,');
  assert.deepEqual(c, { scheme: 'bearer', params: { realm: 'r', service: 's' } });
});

test('malformed input never throws and keeps what is readable', () => {
  assert.deepEqual(parseWwwAuthenticate(''), []);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
  const [c] = parseWwwAuthenticate('Bearer realm="r" junk, service="s"');
  assert.deepEqual(c?.params, { realm: 'r', service: 's' });
  assert.deepEqual(parseWwwAuthenticate('"quoted", Basic realm=x').map((x) => x.scheme), ['basic']);
});

test('a repeated parameter keeps its first value', () => {
  const [c] = parseWwwAuthenticate('Bearer realm="first", realm="second"');
  assert.equal(c?.params['realm'], 'first');
});
