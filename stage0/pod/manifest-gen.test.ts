// Pod manifest generation: env precedence, exec overrides, mounts and isolator overrides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImageManifest } from '../../common/appc/index.js';
import { parsePodArgs } from '../cli/app-args.js';
import { generatePodManifest } from './manifest-gen.js';

const image: ImageManifest = {
  acKind: 'ImageManifest', acVersion: '0.8.11', name: 'example.com/app', labels: [], annotations: [], dependencies: [], pathWhitelist: [],
  app: {
    exec: ['/bin/app', '--flag'], user: '0', group: '0', supplementaryGIDs: [], eventHandlers: [], workingDirectory: '/',
    environment: [{ name: 'IMG', value: 'image' }, { name: 'FILE', value: 'image' }, { name: 'ALL', value: 'image' }],
    mountPoints: [], ports: [], isolators: [{ name: 'resource/memory', value: { limit: '1G' } }],
  },
};
const id = 'sha512-' + 'a'.repeat(128);

test('env precedence: inherit < image < set-env-file < set-env < --environment', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mg-'));
  const envFile = path.join(dir, 'env');
  await fs.writeFile(envFile, '# comment\nFILE=file\nSET=file\nALL=file\n');
  const p = parsePodArgs('run', ['--inherit-env', `--set-env-file=${envFile}`, '--set-env=SET=set', '--set-env=ALL=set', 'img', '--environment=ALL=app', '--memory=64M', '--', 'x', '---']);
  const m = await generatePodManifest(p, [{ arg: p.apps[0]!, imageId: id, manifest: image }], { HOST: 'host', IMG: 'host' });
  const env = Object.fromEntries((m.apps[0]?.app?.environment ?? []).map((e) => [e.name, e.value]));
  assert.deepEqual(env, { HOST: 'host', IMG: 'image', FILE: 'file', SET: 'set', ALL: 'app' });
  assert.deepEqual(m.apps[0]?.app?.exec, ['/bin/app', '--flag', 'x']);
  assert.equal(m.apps[0]?.name, 'app');
  assert.deepEqual(m.apps[0]?.app?.isolators, [{ name: 'resource/memory', value: { limit: '64M' } }]);
  await fs.rm(dir, { recursive: true });
});

test('mounts: per-app wins over pod-wide on the same path; undeclared volumes rejected', async () => {
  const p = parsePodArgs('run', ['--volume=a,kind=empty', '--volume=b,kind=empty', '--mount=volume=a,target=/d', 'img', '--mount=volume=b,target=/d']);
  const m = await generatePodManifest(p, [{ arg: p.apps[0]!, imageId: id, manifest: image }], {});
  assert.deepEqual(m.apps[0]?.mounts, [{ volume: 'b', path: '/d' }]);
  const bad = parsePodArgs('run', ['img', '--mount=volume=zz,target=/d']);
  await assert.rejects(generatePodManifest(bad, [{ arg: bad.apps[0]!, imageId: id, manifest: image }], {}), /volume "zz", which is not declared/);
  const dup = parsePodArgs('run', ['img', 'img']);
  await assert.rejects(generatePodManifest(dup, dup.apps.map((arg) => ({ arg, imageId: id, manifest: image })), {}), /two apps are named "app"/);
});
