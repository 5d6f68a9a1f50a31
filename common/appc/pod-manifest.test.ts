// Unit tests for pod manifest parsing, volumes, exposed ports, templates and the serialize round trip.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RktError } from '../errors.js';
import { memoryIsolator, parsePodManifest, serializePodManifest, type PodManifest } from './index.js';

const ID_A = `sha512-${'a1'.repeat(64)}`;
const ID_B = `sha512-${'b2'.repeat(64)}`;

/** A reified pod in the shape of the spec's pod_runtime example: two apps, a host and an empty volume. */
function fullPod(): Record<string, unknown> {
  return {
    acKind: 'PodManifest',
    acVersion: '0.8.11',
    apps: [
      {
        name: 'indexer',
        image: { name: 'example.org/indexer', id: ID_A, labels: [{ name: 'version', value: '1.4.0' }] },
        app: {
          exec: ['/bin/indexer', '--data=/data'],
          user: '0',
          group: '0',
          mountPoints: [{ name: 'data', path: '/data' }],
          isolators: [{ name: 'resource/memory', value: { limit: '256Mi' } }],
        },
        readOnlyRootFS: true,
        mounts: [{ volume: 'data', path: '/data' }],
        annotations: [{ name: 'role', value: 'primary' }],
      },
      {
        name: 'exporter',
        image: { id: ID_B },
        mounts: [
          { volume: 'data', path: '/mnt/data' },
          { volume: 'out', path: '/out', appVolume: { name: 'out', kind: 'empty', mode: '0700', uid: 1000, gid: 1000 } },
        ],
      },
    ],
    volumes: [
      { name: 'data', kind: 'host', source: '/srv/data', readOnly: true, recursive: false },
      { name: 'scratch', kind: 'empty' },
    ],
    isolators: [
      { name: 'resource/memory', value: { limit: '1Gi' } },
      { name: 'os/unix/sysctl', value: { 'net.ipv4.tcp_fin_timeout': '10' } },
    ],
    annotations: [{ name: 'ip-address', value: '10.0.0.2' }],
    ports: [{ name: 'http', hostPort: 8080, hostIP: '127.0.0.1', podPort: { name: 'http', protocol: 'tcp', port: 80 } }],
    userAnnotations: { owner: 'ops' },
    userLabels: { env: 'test' },
  };
}

function invalid(input: unknown, expected: string | RegExp): void {
  assert.throws(() => parsePodManifest(input), (err: unknown) => {
    assert.ok(err instanceof RktError, String(err));
    assert.equal(err.code, 'MANIFEST_INVALID');
    if (typeof expected === 'string') assert.equal(err.message, `invalid pod manifest: ${expected}`);
    else assert.match(err.message, expected);
    return true;
  });
}

test('a full pod manifest parses with defaults applied', () => {
  const p = parsePodManifest(JSON.stringify(fullPod()));
  assert.equal(p.apps.length, 2);
  const [indexer, exporter] = p.apps;
  assert.equal(indexer?.readOnlyRootFS, true);
  assert.equal(indexer?.app?.workingDirectory, '/');
  assert.deepEqual(indexer?.image.labels, [{ name: 'version', value: '1.4.0' }]);
  assert.deepEqual(exporter?.image, { id: ID_B, labels: [] });
  assert.equal(exporter?.app, undefined);
  assert.deepEqual(exporter?.annotations, []);
  assert.deepEqual(exporter?.mounts[1]?.appVolume, { name: 'out', kind: 'empty', mode: '0700', uid: 1000, gid: 1000 });
  assert.deepEqual(p.volumes, [
    { name: 'data', kind: 'host', source: '/srv/data', readOnly: true, recursive: false },
    { name: 'scratch', kind: 'empty', mode: '0755', uid: 0, gid: 0 },
  ]);
  assert.deepEqual(p.ports[0], { name: 'http', hostPort: 8080, hostIP: '127.0.0.1', podPort: { name: 'http', protocol: 'tcp', port: 80, count: 1, socketActivated: false } });
  assert.deepEqual(p.userLabels, { env: 'test' });
});

test('a pod without apps is valid (rkt app sandbox creates one)', () => {
  const p = parsePodManifest('{"acKind":"PodManifest","acVersion":"0.8.11","apps":[]}');
  assert.deepEqual(p, { acKind: 'PodManifest', acVersion: '0.8.11', apps: [], volumes: [], isolators: [], annotations: [], ports: [] });
});

test('unknown fields ignored, keys case-insensitive, unknown pod isolators kept', () => {
  const raw = fullPod();
  raw.extra = 'ignored';
  raw.isolators = [{ name: 'example.org/gpu', value: { count: 1 } }];
  (raw.apps as Record<string, unknown>[])[0]!.ReadOnlyRootFs = true;
  delete (raw.apps as Record<string, unknown>[])[0]!.readOnlyRootFS;
  const p = parsePodManifest(raw);
  assert.equal(p.apps[0]?.readOnlyRootFS, true);
  assert.deepEqual(p.isolators, [{ name: 'example.org/gpu', value: { count: 1 } }]);
});

test('templates: image.id may be absent only with allowTemplate', () => {
  const raw = { acKind: 'PodManifest', acVersion: '0.3.0', apps: [{ name: 'web', image: { name: 'example.org/web', labels: [{ name: 'version', value: 'latest' }] } }] };
  invalid(raw, 'apps[0].image.id: is required');
  const p = parsePodManifest(raw, { allowTemplate: true });
  assert.equal(p.apps[0]?.image.id, '');
  assert.deepEqual(parsePodManifest(serializePodManifest(p), { allowTemplate: true }), p);
});

test('pod rules name the field', () => {
  const cases: [(p: Record<string, unknown>) => void, string | RegExp][] = [
    [(p) => { p.acKind = 'ImageManifest'; }, 'acKind "ImageManifest": must be "PodManifest"'],
    [(p) => { p.apps = {}; }, 'apps: must be an array, got object'],
    [(p) => { (p.apps as unknown[]).push({ name: 'indexer', image: { id: ID_A } }); }, 'apps[2]: duplicate app name "indexer"'],
    [(p) => { (p.apps as Record<string, unknown>[])[0]!.name = 'Indexer'; }, 'apps[0].name "Indexer": must match [a-z0-9]+(-[a-z0-9]+)*'],
    [(p) => { delete (p.apps as Record<string, unknown>[])[1]!.image; }, 'apps[1].image: is required'],
    [(p) => { (p.apps as Record<string, unknown>[])[1]!.image = { id: 'sha512-../../x' }; }, 'apps[1].image.id "sha512-../../x": must be sha512-<lowercase hex>'],
    [(p) => { (p.apps as Record<string, unknown>[])[1]!.mounts = [{ path: '/x' }]; }, 'apps[1].mounts[0].volume: is required'],
    [(p) => { (p.apps as Record<string, unknown>[])[1]!.readOnlyRootFS = 'true'; }, 'apps[1].readOnlyRootFS: must be a boolean, got string'],
    [(p) => { (p.apps as Record<string, unknown>[])[0]!.app = { exec: ['/x'], group: '0' }; }, 'apps[0].app.user: is required'],
    [(p) => { (p.apps as Record<string, unknown>[])[0]!.app = { user: '0', group: '0', isolators: [{ name: 'example.org/gpu', value: 1 }] }; }, /apps\[0\]\.app\.isolators\[0\]\.name "example\.org\/gpu": unknown isolator/],
    [(p) => { p.volumes = [{ name: 'v', kind: 'tmpfs' }]; }, 'volumes[0].kind "tmpfs": must be "host" or "empty"'],
    [(p) => { p.volumes = [{ name: 'v', kind: 'host' }]; }, 'volumes[0].source: is required for a host volume'],
    [(p) => { p.volumes = [{ name: 'v', kind: 'host', source: 'rel/path' }]; }, 'volumes[0].source "rel/path": must be an absolute path'],
    [(p) => { p.volumes = [{ name: 'v', kind: 'host', source: '/x', mode: '0755' }]; }, 'volumes[0].mode: must not be set for a host volume'],
    [(p) => { p.volumes = [{ name: 'v', kind: 'empty', source: '/x' }]; }, 'volumes[0].source "/x": must not be set for an empty volume'],
    [(p) => { p.volumes = [{ name: 'v', kind: 'empty', mode: 'rwx' }]; }, 'volumes[0].mode "rwx": must be an octal mode such as 0755'],
    [(p) => { p.volumes = [{ name: 'v', kind: 'empty', uid: -1 }]; }, 'volumes[0].uid: must be in the range 0-4294967295, got -1'],
    [(p) => { p.volumes = [{ name: 'v', kind: 'empty' }, { name: 'v', kind: 'empty' }]; }, 'volumes[1]: duplicate volume name "v"'],
    [(p) => { p.ports = [{ name: 'http', hostPort: 70000 }]; }, 'ports[0].hostPort: must be in the range 1-65535, got 70000'],
    [(p) => { p.ports = [{ name: 'http', hostPort: 80, hostIP: '1.2.3' }]; }, 'ports[0].hostIP "1.2.3": must be an IPv4 or IPv6 address'],
    [(p) => { p.ports = [{ name: 'http' }]; }, 'ports[0].hostPort: is required'],
    [(p) => { p.isolators = [{ name: 'os/linux/cpu-shares', value: 1 }]; }, 'isolators[0].value: must be in the range 2-262144, got 1'],
    [(p) => { p.annotations = [{ name: 'created', value: 'yesterday' }]; }, /annotations\[0\]\.value "yesterday": annotation "created" must be an RFC 3339 date/],
    [(p) => { p.userAnnotations = ['x']; }, 'userAnnotations: must be an object, got array'],
  ];
  for (const [mutate, expected] of cases) {
    const p = fullPod();
    mutate(p);
    invalid(p, expected);
  }
});

test('round trip: parse -> serialize -> parse is lossless and the output is stable', () => {
  const p = parsePodManifest(fullPod());
  const text = serializePodManifest(p);
  assert.deepEqual(parsePodManifest(text), p);
  assert.equal(serializePodManifest(parsePodManifest(text)), text);
  assert.ok(text.startsWith('{"acVersion":"0.8.11","acKind":"PodManifest","apps":[{"name":"indexer","image":{"name":"example.org/indexer","id":'));
});

test('serialized pods always carry the list fields, as the metadata service needs', () => {
  const p: PodManifest = { acKind: 'PodManifest', acVersion: '0.8.11', apps: [], volumes: [], isolators: [], annotations: [], ports: [] };
  assert.equal(serializePodManifest(p), '{"acVersion":"0.8.11","acKind":"PodManifest","apps":[],"volumes":[],"isolators":[],"annotations":[],"ports":[]}');
});

test('a pod built in code (as stage0 does) serializes, and invalid ones are refused', () => {
  const p: PodManifest = {
    acKind: 'PodManifest',
    acVersion: '0.8.11',
    apps: [{
      name: 'busybox',
      image: { name: 'example.org/busybox', id: ID_A, labels: [] },
      app: {
        exec: ['/bin/sh'], user: '0', group: '0', supplementaryGIDs: [], eventHandlers: [], workingDirectory: '/',
        environment: [{ name: 'PATH', value: '/bin' }], mountPoints: [], ports: [], isolators: [memoryIsolator('50M')],
      },
      mounts: [],
      annotations: [],
    }],
    volumes: [],
    isolators: [],
    annotations: [],
    ports: [],
  };
  const back = parsePodManifest(serializePodManifest(p));
  assert.deepEqual(back, p);
  p.volumes.push({ name: 'v', kind: 'host', source: 'relative' });
  assert.throws(() => serializePodManifest(p), /^RktError: invalid pod manifest: volumes\[0\]\.source "relative": must be an absolute path/);
});
