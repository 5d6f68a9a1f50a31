// ListImages' filter rules, rkt's semantics: names by exact, prefix, base name and keyword, labels and
// annotations all of, import times as strict bounds; every name the image answers to counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageMatches, imageMatchesAny } from './image-filter.js';
import type { ApiImage, ImageFilter } from './messages.js';

const image: ApiImage = {
  base_format: { type: 'IMAGE_TYPE_APPC', version: '0.8.11' },
  id: 'sha512-abc', name: 'coreos.com/etcd', version: '3.0', import_timestamp: '1000', manifest: Buffer.alloc(0), size: '10',
  annotations: [{ key: 'authors', value: 'x' }],
  labels: [{ key: 'version', value: '3.0' }, { key: 'arch', value: 'amd64' }],
};
const names = ['coreos.com/etcd', 'k8s.io/etcd-backup'];

const none: ImageFilter = {
  ids: [], prefixes: [], base_names: [], keywords: [], labels: [], imported_after: 0, imported_before: 0, annotations: [], full_names: [],
};
const f = (over: Partial<ImageFilter>): ImageFilter => ({ ...none, ...over });
const only = (over: Partial<ImageFilter>, ns: readonly string[] = ['coreos.com/etcd']): boolean => imageMatches(image, ns, f(over));

test('no filters match every image', () => {
  assert.equal(imageMatchesAny(image, names, []), true);
  assert.equal(only({}), true);
});

test('ids and full names: exactly any of them', () => {
  assert.equal(only({ ids: ['sha512-abc'] }), true);
  assert.equal(only({ ids: ['sha512-ab'] }), false, 'a prefix is no id');
  assert.equal(only({ full_names: ['coreos.com/etcd'] }), true);
  assert.equal(only({ full_names: ['etcd'] }), false);
});

test('prefixes, base names and keywords', () => {
  assert.equal(only({ prefixes: ['coreos.com/'] }), true);
  assert.equal(only({ prefixes: ['etcd'] }), false);
  assert.equal(only({ base_names: ['etcd'] }), true);
  assert.equal(only({ base_names: ['etc'] }), false, 'the whole last element');
  assert.equal(only({ keywords: ['re', 'zzz'] }), true);
  assert.equal(only({ keywords: ['zzz'] }), false);
});

test('a later name the image answers to matches too', () => {
  assert.equal(only({ base_names: ['etcd-backup'] }, names), true);
  assert.equal(only({ base_names: ['etcd-backup'] }), false);
});

test('import time bounds are strict', () => {
  assert.equal(only({ imported_after: 999 }), true);
  assert.equal(only({ imported_after: 1000 }), false);
  assert.equal(only({ imported_before: 1001 }), true);
  assert.equal(only({ imported_before: 1000 }), false);
});

test('labels and annotations: all of them, value included', () => {
  assert.equal(only({ labels: [{ key: 'arch', value: 'amd64' }, { key: 'version', value: '3.0' }] }), true);
  assert.equal(only({ labels: [{ key: 'arch', value: 'arm64' }] }), false);
  assert.equal(only({ annotations: [{ key: 'authors', value: 'x' }] }), true);
  assert.equal(only({ annotations: [{ key: 'homepage', value: 'x' }] }), false);
});

test('AND within a filter, OR across filters', () => {
  assert.equal(only({ prefixes: ['coreos.com/'], imported_after: 2000 }), false);
  assert.equal(imageMatchesAny(image, names, [f({ imported_after: 2000 }), f({ keywords: ['etcd'] })]), true);
});
