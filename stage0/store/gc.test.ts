// Unit tests for how gc reads a pod's overlay lower dirs as store entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lowerRef } from './gc.js';

const tree = `deps-sha512-${'a'.repeat(64)}`;
const layer = `sha256-${'b'.repeat(64)}`;

test('lower dirs name trees and layers by their last components, whatever the store path', () => {
  assert.deepEqual(lowerRef(`/var/lib/rkt/cas/trees/${tree}/rootfs`), { kind: 'tree', dir: tree });
  assert.deepEqual(lowerRef(`/some/link/to/rkt/cas/trees/${tree}/rootfs/`), { kind: 'tree', dir: tree });
  assert.deepEqual(lowerRef(`/var/lib/rkt/cas/layers/${layer}/rootfs`), { kind: 'layer', dir: layer });
  assert.deepEqual(lowerRef(`/x/cas/trees/./${tree}/rootfs`), { kind: 'tree', dir: tree });
});

test('anything else is no reference', () => {
  assert.equal(lowerRef(`/var/lib/rkt/cas/trees/${tree}`), undefined);
  assert.equal(lowerRef(`/var/lib/rkt/cas/trees/not-a-tree/rootfs`), undefined);
  assert.equal(lowerRef(`/var/lib/rkt/cas/layers/${tree}/rootfs`), undefined);
  assert.equal(lowerRef(`/var/lib/rkt/cas/trees/${layer}/rootfs`), undefined);
  assert.equal(lowerRef('rootfs'), undefined);
  assert.equal(lowerRef(''), undefined);
});
