// Unit tests for labels (names, uniqueness, os/arch pairs) and annotations (created, homepage, documentation).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  annotationValue, isRfc3339, labelValue, labelsFromRecord, labelsToRecord, osArchProblem, parseAnnotations, parseLabels,
} from './labels.js';

const labels = (pairs: Record<string, string>): { name: string; value: string }[] =>
  Object.entries(pairs).map(([name, value]) => ({ name, value }));

test('valid os/arch pairs from appc\'s list', () => {
  for (const [os, arch] of [['linux', 'amd64'], ['linux', 'aarch64'], ['linux', 'armv7l'], ['linux', 's390x'],
    ['linux', 'ppc64le'], ['linux', 'i386'], ['freebsd', 'arm'], ['freebsd', 'amd64'], ['darwin', 'x86_64'], ['darwin', 'i386']]) {
    assert.equal(osArchProblem(os, arch), undefined, `${os}/${arch}`);
    assert.deepEqual(parseLabels(labels({ os: os!, arch: arch! }), 'labels'), labels({ os: os!, arch: arch! }));
  }
});

test('invalid os/arch pairs are rejected with the allowed values', () => {
  assert.equal(osArchProblem('linux', 'x86_64'), 'bad arch "x86_64" for os "linux" (must be one of: amd64, i386, aarch64, aarch64_be, armv6l, armv7l, armv7b, ppc64, ppc64le, s390x)');
  assert.equal(osArchProblem('windows', undefined), 'bad os "windows" (must be one of: darwin, freebsd, linux)');
  assert.match(osArchProblem('darwin', 'amd64') ?? '', /bad arch "amd64" for os "darwin"/);
  assert.match(osArchProblem('constructor', undefined) ?? '', /bad os "constructor"/);
  assert.throws(() => parseLabels(labels({ os: 'linux', arch: 'arm64' }), 'labels'), /^SchemaError: labels: bad arch "arm64"/);
});

test('an arch label without os is not checked; os alone is fine', () => {
  assert.equal(osArchProblem(undefined, 'sparc'), undefined);
  assert.doesNotThrow(() => parseLabels(labels({ arch: 'sparc' }), 'labels'));
  assert.doesNotThrow(() => parseLabels(labels({ os: 'linux', version: '1.0.0' }), 'labels'));
});

test('label names: AC Identifier, unique, never "name"', () => {
  assert.throws(() => parseLabels(labels({ Version: '1' }), 'labels'), /labels\[0\]\.name "Version": must match/);
  assert.throws(() => parseLabels(labels({ name: 'x' }), 'labels'), /labels\[0\]\.name: a label must not be called "name"/);
  assert.throws(() => parseLabels([{ name: 'a', value: '1' }, { name: 'a', value: '2' }], 'labels'), /labels\[1\]: duplicate label "a"/);
});

test('label types are checked, missing value reads as empty', () => {
  assert.throws(() => parseLabels({ os: 'linux' }, 'labels'), /labels: must be an array, got object/);
  assert.throws(() => parseLabels([{ name: 'v', value: 1 }], 'labels'), /labels\[0\]\.value: must be a string, got number/);
  assert.throws(() => parseLabels(['os=linux'], 'labels'), /labels\[0\]: must be an object, got string/);
  assert.deepEqual(parseLabels([{ name: 'v' }], 'labels'), [{ name: 'v', value: '' }]);
  assert.deepEqual(parseLabels(undefined, 'labels'), []);
});

test('label helpers', () => {
  const list = labels({ version: '1.2', os: 'linux' });
  assert.equal(labelValue(list, 'os'), 'linux');
  assert.equal(labelValue(list, 'arch'), undefined);
  assert.deepEqual(labelsToRecord(list), { version: '1.2', os: 'linux' });
  assert.deepEqual(labelsFromRecord({ version: '1', arch: 'amd64', os: 'linux' }), labels({ arch: 'amd64', os: 'linux', version: '1' }));
  assert.throws(() => labelsFromRecord({ os: 'plan9' }), /^RktError: invalid labels: bad os "plan9"/);
  assert.throws(() => labelsFromRecord({ Os: 'x' }), /^RktError: invalid labels: labels\[0\]\.name "Os": must match/);
});

test('annotations: created must be RFC 3339, homepage/documentation http(s) URLs', () => {
  const ok = [
    { name: 'created', value: '2014-10-27T19:32:27.67021798Z' },
    { name: 'homepage', value: 'https://example.com' },
    { name: 'documentation', value: 'http://example.com/docs' },
    { name: 'authors', value: 'Someone <someone@example.com>' },
    { name: 'appc.io/executor/supports-systemd-notify', value: 'true' },
  ];
  assert.deepEqual(parseAnnotations(ok, 'annotations'), ok);
  assert.equal(annotationValue(ok, 'homepage'), 'https://example.com');
  assert.throws(() => parseAnnotations([{ name: 'created', value: '2014-10-27 19:32:27Z' }], 'annotations'),
    /annotations\[0\]\.value "2014-10-27 19:32:27Z": annotation "created" must be an RFC 3339 date/);
  assert.throws(() => parseAnnotations([{ name: 'homepage', value: 'ftp://example.com' }], 'annotations'), /must be an http or https URL/);
  assert.throws(() => parseAnnotations([{ name: 'documentation', value: 'example.com' }], 'annotations'), /must be an http or https URL/);
  assert.throws(() => parseAnnotations([{ name: 'a', value: '' }, { name: 'a', value: '' }], 'annotations'), /duplicate annotation "a"/);
});

test('RFC 3339 dates', () => {
  for (const s of ['2020-02-29T00:00:00Z', '1999-12-31T23:59:59+01:00', '2014-10-27T19:32:27.5-07:30']) assert.ok(isRfc3339(s), s);
  for (const s of ['2019-02-29T00:00:00Z', '2020-13-01T00:00:00Z', '2020-01-01T24:00:00Z', '2020-01-01t00:00:00Z',
    '2020-01-01T00:00:00', '2020-01-01']) assert.equal(isRfc3339(s), false, s);
});
