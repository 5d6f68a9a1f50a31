// OCI pods beyond the shared bodies: a real port forward to an ExposedPort and `rkt enter` (both
// stage1s), and an image whose layer stack is too long for one overlay mount (it runs flattened).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildImage, busyboxLayer, type LayerSpec } from '../harness/oci-image.js';
import { makeNspawnHarness, skipReason } from './nspawn-helpers.js';
import { makeKvmHarness, skipReason as kvmSkipReason } from './kvm-helpers.js';
import { freePort, netSkipReason, tcpGet } from './net-helpers.js';
import { layoutWith, ociPortEnterBody } from './oci-bodies.js';

const skip = skipReason() || (await netSkipReason()) || false;
const kvmSkip = kvmSkipReason() || (await netSkipReason()) || false;

test('nspawn: an OCI ExposedPort forwarded by name; rkt enter runs as the image user', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    await ociPortEnterBody(h, await freePort(), (p) => tcpGet('127.0.0.1', p));
  } finally {
    await h.teardown();
  }
});

test('kvm: an OCI ExposedPort forwarded by name; rkt enter runs as the image user', { skip: kvmSkip }, async () => {
  const h = await makeKvmHarness();
  try {
    await ociPortEnterBody(h, await freePort(), (p) => tcpGet('127.0.0.1', p));
  } finally {
    await h.teardown();
  }
});

test('an image of 80 layers is too deep for one overlay mount: prepare uses it flattened, and the view is right', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const layers: LayerSpec[] = [busyboxLayer()];
    for (let i = 0; i < 79; i++) {
      layers.push({ compression: 'gzip', entries: [{ type: 'file', path: 'stack.txt', content: `layer-${i}\n` }, { type: 'file', path: `l/${i}`, content: `${i}\n` }] });
    }
    const img = await buildImage({ layers, config: { cmd: ['/bin/sh', '-c', 'cat /stack.txt; ls /l | wc -l'] } });
    const dir = await layoutWith(h, 'deep', img);
    const prep = await h.rkt(['--debug', 'prepare', `--stage1-path=${path.resolve('dist/stage1-images/stage1-nspawn.aci')}`, `oci:${dir}:deep`, '--name=deep']);
    assert.equal(prep.exitCode, 0, prep.stderr);
    assert.match(prep.stderr, /80 layers do not fit one overlay mount; using the image flattened/);
    const uuid = prep.stdout.trim().split('\n').pop() ?? '';
    const podDir = h.podDir('prepared', uuid);
    const rootfs = path.join(podDir, 'stage1/rootfs/opt/stage2/deep/rootfs');
    assert.equal(fs.readFileSync(path.join(rootfs, 'stack.txt'), 'utf8'), 'layer-78\n');
    assert.equal(fs.readdirSync(path.join(rootfs, 'l')).length, 79);
    const rm = await h.rkt(['rm', uuid]);
    assert.equal(rm.exitCode, 0, rm.stderr);
  } finally {
    await h.teardown();
  }
});
