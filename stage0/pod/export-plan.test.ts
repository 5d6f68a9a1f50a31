// Unit tests for rkt export's choices: the app picked, the manifest written, owners shifted back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImageManifest, parsePodManifest, serializeImageManifest } from '../../common/appc/index.js';
import { exportedManifest, pickApp, unshiftOwner } from './export-plan.js';

const ID = `sha512-${'a1'.repeat(64)}`;
const UUID = '11111111-2222-3333-4444-555555555555';

function pod(names: string[]): ReturnType<typeof parsePodManifest> {
  return parsePodManifest(JSON.stringify({
    acKind: 'PodManifest', acVersion: '0.8.11',
    apps: names.map((name) => ({ name, image: { id: ID }, app: { exec: [`/bin/${name}`], user: '7', group: '8' } })),
  }));
}

test('pickApp: the only app, the named one, and one-line errors otherwise', () => {
  assert.equal(pickApp(pod(['web']), UUID, undefined).name, 'web');
  assert.equal(pickApp(pod(['a', 'b']), UUID, 'b').name, 'b');
  assert.throws(() => pickApp(pod(['a', 'b']), UUID, undefined), (e: Error & { hint?: string; exitCode?: number }) => {
    assert.equal(e.message, `pod ${UUID} has 2 apps (a, b)`);
    assert.match(e.hint ?? '', /--app=NAME/);
    assert.equal(e.exitCode, 254);
    return true;
  });
  assert.throws(() => pickApp(pod(['a']), UUID, 'c'), { code: 'APP_NOT_FOUND', message: `pod ${UUID} has no app "c"` });
  assert.throws(() => pickApp(pod(['a']), UUID, 'Not_A_Name'), { code: 'USAGE' });
  assert.throws(() => pickApp({ ...pod(['a']), apps: [] }, UUID, undefined), { code: 'POD_INVALID' });
});

test('exportedManifest: runtime app section, name/labels/annotations kept, no deps, no whitelist, no OCI source', () => {
  const image = parseImageManifest(JSON.stringify({
    acKind: 'ImageManifest', acVersion: '0.8.11', name: 'example.com/web',
    labels: [{ name: 'version', value: '1.0.0' }, { name: 'os', value: 'linux' }, { name: 'arch', value: 'amd64' }],
    app: { exec: ['/bin/original'], user: '0', group: '0' },
    annotations: [
      { name: 'authors', value: 'me' },
      { name: 'rkt-ts/oci/reference', value: 'docker.io/library/web:1' },
      { name: 'rkt-ts/oci/user', value: 'www' },
      { name: 'rkt-ts/oci/stop-signal', value: 'SIGQUIT' },
    ],
    dependencies: [{ imageName: 'example.com/base' }],
    pathWhitelist: ['/bin/original'],
  }));
  const ra = pod(['web']).apps[0];
  assert.ok(ra);
  const m = exportedManifest(image, ra);
  assert.equal(m.name, 'example.com/web');
  assert.deepEqual(m.labels.map((l) => `${l.name}=${l.value}`), ['version=1.0.0', 'os=linux', 'arch=amd64']);
  assert.deepEqual(m.app?.exec, ['/bin/web']);
  assert.equal(m.app?.user, '7');
  assert.deepEqual(m.dependencies, []);
  assert.deepEqual(m.pathWhitelist, []);
  assert.deepEqual(m.annotations.map((a) => a.name), ['authors', 'rkt-ts/oci/stop-signal']);
  // valid as written, and the image's own manifest is untouched
  assert.equal(parseImageManifest(serializeImageManifest(m)).name, 'example.com/web');
  assert.equal(image.dependencies.length, 1);
  // no runtime app section: the image's
  const { app: _dropped, ...bare } = ra;
  assert.deepEqual(exportedManifest(image, bare).app?.exec, ['/bin/original']);
});

test('unshiftOwner: ids in the range go back, ids below its size stay, others are refused', () => {
  const map = unshiftOwner({ shift: 0x30000, count: 0x10000 });
  assert.deepEqual(map(0x30000, 0x30000 + 5, 'rootfs/a'), { uid: 0, gid: 5 });
  assert.deepEqual(map(0x3ffff, 0x3ffff, 'rootfs/a'), { uid: 0xffff, gid: 0xffff });
  assert.deepEqual(map(0, 1000, 'rootfs/from-the-image'), { uid: 0, gid: 1000 });
  assert.throws(() => map(0x40000, 0, 'rootfs/b'), /rootfs\/b: its uid 262144 is outside the pod's user range 196608:65536/);
  assert.throws(() => map(0, 0x20000, 'rootfs/c'), /its gid 131072/);
});
