import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acNameFor, appcManifestFor, exposedPortToAppc, ociCommandOf, splitUser, volumeName } from './config-to-app.js';
import { parseImageConfig } from './documents.js';

const DIFF = `sha256:${'b'.repeat(64)}`;

function config(c: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: c, rootfs: { type: 'layers', diff_ids: [DIFF] } }));
}

test('the image config becomes an appc app with the OCI parts kept as annotations', () => {
  const cfg = parseImageConfig(config({
    Entrypoint: ['/bin/web'], Cmd: ['--port', '80'], Env: ['A=1', 'UNSET'], User: 'alice:staff', WorkingDir: '/srv',
    ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Volumes: { '/var/lib/data': {} }, StopSignal: 'SIGINT',
    Labels: { 'org.opencontainers.image.title': 'web', 'Not Valid': 'x' },
  }), 'config');
  const m = appcManifestFor(cfg, { name: 'h-5000/acme/web', version: '1.0', reference: 'docker://h:5000/acme/web:1.0', manifestDigest: DIFF, configDigest: DIFF });
  assert.deepEqual(m.app?.exec, ['/bin/web', '--port', '80']);
  assert.deepEqual([m.app?.user, m.app?.group, m.app?.workingDirectory], ['alice', 'staff', '/srv']);
  assert.deepEqual(m.app?.environment.map((e) => e.name), ['A', 'PATH']);
  assert.deepEqual(m.app?.ports.map((p) => p.name), ['80-tcp', '53-udp']);
  assert.deepEqual(m.app?.mountPoints, [{ name: 'volume-var-lib-data', path: '/var/lib/data', readOnly: false }]);
  assert.deepEqual(ociCommandOf(m), { entrypoint: ['/bin/web'], cmd: ['--port', '80'] });
  const ann = Object.fromEntries(m.annotations.map((a) => [a.name, a.value]));
  assert.equal(ann['rkt-ts/oci/stop-signal'], 'SIGINT');
  assert.equal(ann['rkt-ts/oci/user'], 'alice:staff');
  assert.equal(ann['org.opencontainers.image.title'], 'web');
  assert.equal(ann['Not Valid'], undefined);
  assert.deepEqual(m.labels.map((l) => `${l.name}=${l.value}`), ['version=1.0', 'os=linux', 'arch=amd64']);
});

test('ports, users, volume and image names', () => {
  assert.deepEqual(exposedPortToAppc('8000-8010/tcp'), { name: '8000-tcp', protocol: 'tcp', port: 8000, count: 11, socketActivated: false });
  assert.equal(exposedPortToAppc('9090').name, '9090-tcp');
  assert.throws(() => exposedPortToAppc('70000/tcp'), /invalid ExposedPorts/);
  assert.deepEqual(splitUser(undefined), { user: '0', group: '0' });
  assert.deepEqual(splitUser('1000'), { user: '1000', group: '0' });
  assert.equal(volumeName('/data'), 'volume-data');
  assert.equal(acNameFor('127.0.0.1:5000/acme/web'), '127.0.0.1-5000/acme/web');
  assert.equal(acNameFor('docker.io/library/busybox'), 'docker.io/library/busybox');
});
