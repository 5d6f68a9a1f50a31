// Unit tests for image manifest parsing: full manifests, leniency (unknown fields, key case), and
// wrong types or rule violations reported with the field named.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RktError } from '../errors.js';
import { parseImageManifest, serializeImageManifest } from './index.js';

/** A full manifest exercising every field, in the shape of the spec's reduce-worker example. */
function fullManifest(): Record<string, unknown> {
  return {
    acKind: 'ImageManifest',
    acVersion: '0.8.11',
    name: 'example.org/batch-runner',
    labels: [{ name: 'version', value: '2.1.0' }, { name: 'os', value: 'linux' }, { name: 'arch', value: 'amd64' }],
    app: {
      exec: ['/usr/bin/batch-runner', '--workers=4'],
      user: '1000',
      group: '1000',
      supplementaryGIDs: [10, 20],
      eventHandlers: [
        { name: 'pre-start', exec: ['/usr/bin/fetch-input'] },
        { name: 'post-stop', exec: ['/usr/bin/upload-output', '-v'] },
      ],
      workingDirectory: '/srv/work',
      environment: [{ name: 'BATCH_MODE', value: 'fast' }, { name: 'x.y-z', value: '' }],
      mountPoints: [{ name: 'scratch', path: '/srv/scratch', readOnly: false }, { name: 'config', path: '/etc/runner', readOnly: true }],
      ports: [{ name: 'metrics', protocol: 'tcp', port: 9100, socketActivated: true }, { name: 'range', protocol: 'udp', port: 5000, count: 10 }],
      isolators: [
        { name: 'resource/cpu', value: { limit: '750m' } },
        { name: 'resource/memory', value: { request: '256Mi', limit: '512Mi' } },
        { name: 'os/linux/capabilities-retain-set', value: { set: ['CAP_NET_BIND_SERVICE'] } },
        { name: 'os/linux/no-new-privileges', value: true },
        { name: 'os/linux/seccomp-remove-set', value: { errno: 'EACCES', set: ['reboot', 'kexec_load'] } },
      ],
      userAnnotations: { team: 'data' },
      userLabels: { tier: 'batch' },
    },
    dependencies: [
      { imageName: 'example.org/batch-base', imageID: `sha512-${'0f'.repeat(64)}`, labels: [{ name: 'os', value: 'linux' }, { name: 'flavor', value: 'slim' }], size: 4096 },
      { imageName: 'example.org/tools' },
    ],
    pathWhitelist: ['/usr/bin/batch-runner', '/etc/runner/'],
    annotations: [
      { name: 'authors', value: 'Batch Team <batch@example.org>' },
      { name: 'created', value: '2016-05-04T12:00:00.5Z' },
      { name: 'homepage', value: 'https://example.org' },
      { name: 'documentation', value: 'https://example.org/docs' },
      { name: 'appc.io/executor/supports-systemd-notify', value: 'true' },
    ],
  };
}

function invalid(input: unknown, expected: string | RegExp): void {
  assert.throws(() => parseImageManifest(input), (err: unknown) => {
    assert.ok(err instanceof RktError, String(err));
    assert.equal(err.code, 'MANIFEST_INVALID');
    if (typeof expected === 'string') assert.equal(err.message, expected);
    else assert.match(err.message, expected);
    return true;
  });
}

test('a full manifest parses into the typed shape', () => {
  const m = parseImageManifest(JSON.stringify(fullManifest()));
  assert.equal(m.name, 'example.org/batch-runner');
  assert.equal(m.labels.length, 3);
  assert.ok(m.app);
  assert.deepEqual(m.app.exec, ['/usr/bin/batch-runner', '--workers=4']);
  assert.deepEqual(m.app.supplementaryGIDs, [10, 20]);
  assert.equal(m.app.workingDirectory, '/srv/work');
  assert.deepEqual(m.app.ports[0], { name: 'metrics', protocol: 'tcp', port: 9100, count: 1, socketActivated: true });
  assert.deepEqual(m.app.ports[1], { name: 'range', protocol: 'udp', port: 5000, count: 10, socketActivated: false });
  assert.deepEqual(m.app.mountPoints[1], { name: 'config', path: '/etc/runner', readOnly: true });
  assert.deepEqual(m.app.isolators[4], { name: 'os/linux/seccomp-remove-set', value: { set: ['reboot', 'kexec_load'], errno: 'EACCES' } });
  assert.deepEqual(m.app.userLabels, { tier: 'batch' });
  assert.equal(m.dependencies[0]?.size, 4096);
  assert.deepEqual(m.dependencies[1], { imageName: 'example.org/tools', labels: [] });
  assert.deepEqual(m.pathWhitelist, ['/usr/bin/batch-runner', '/etc/runner/']);
});

test('accepts JSON text, UTF-8 bytes and parsed values alike', () => {
  const text = JSON.stringify(fullManifest());
  const a = parseImageManifest(text);
  assert.deepEqual(parseImageManifest(Buffer.from(text)), a);
  assert.deepEqual(parseImageManifest(JSON.parse(text)), a);
  invalid(Buffer.from([0x7b, 0xff, 0x7d]), 'invalid image manifest: not valid UTF-8');
  invalid('{"acKind": ', /^invalid image manifest: not valid JSON \(/);
  invalid('[]', 'invalid image manifest: must be an object, got array');
});

test('a minimal manifest gets empty lists and no app', () => {
  const m = parseImageManifest('{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/empty"}');
  assert.deepEqual(m, { acKind: 'ImageManifest', acVersion: '0.8.11', name: 'example.com/empty', labels: [], annotations: [], dependencies: [], pathWhitelist: [] });
});

test('defaults: workingDirectory "/", count 1, readOnly false, nulls read as absent', () => {
  const m = parseImageManifest({
    acKind: 'ImageManifest', acVersion: '0.8.11', name: 'a', labels: null,
    app: { user: '0', group: '0', exec: null, ports: [{ name: 'p', protocol: 'tcp', port: 80, count: 0 }], mountPoints: [{ name: 'm', path: '/m' }] },
  });
  assert.equal(m.app?.workingDirectory, '/');
  assert.deepEqual(m.app?.exec, []);
  assert.equal(m.app?.ports[0]?.count, 1);
  assert.equal(m.app?.mountPoints[0]?.readOnly, false);
  assert.deepEqual(m.labels, []);
});

test('unknown fields are ignored and keys match case-insensitively, as appc\'s Go code did', () => {
  const raw = fullManifest();
  raw.somethingNew = { nested: true };
  const app = raw.app as Record<string, unknown>;
  app.supplementaryGids = app.supplementaryGIDs; // the spelling used in the spec's own example
  delete app.supplementaryGIDs;
  app.futureField = 1;
  const m = parseImageManifest(raw);
  assert.deepEqual(m.app?.supplementaryGIDs, [10, 20]);
  assert.equal((m as unknown as Record<string, unknown>).somethingNew, undefined);
  const upper = parseImageManifest({ ACKIND: 'ImageManifest', AcVersion: '0.8.11', NAME: 'example.com/x' });
  assert.equal(upper.name, 'example.com/x');
  // An exact key wins over a case-insensitive one.
  assert.equal(parseImageManifest({ acKind: 'ImageManifest', acVersion: '0.8.11', Name: 'Bad', name: 'good' }).name, 'good');
});

test('required fields and kind', () => {
  invalid({ acVersion: '0.8.11', name: 'a' }, 'invalid image manifest: acKind: is required');
  invalid({ acKind: 'PodManifest', acVersion: '0.8.11', name: 'a' }, 'invalid image manifest: acKind "PodManifest": must be "ImageManifest"');
  invalid({ acKind: 'ImageManifest', name: 'a' }, 'invalid image manifest: acVersion: is required');
  invalid({ acKind: 'ImageManifest', acVersion: '0.8', name: 'a' }, 'invalid image manifest: acVersion "0.8": must be a semantic version such as 0.8.11');
  invalid({ acKind: 'ImageManifest', acVersion: '0.8.11' }, 'invalid image manifest: name: is required');
  invalid({ acKind: 'ImageManifest', acVersion: '0.8.11', name: 'Foo_Bar' }, 'invalid image manifest: name "Foo_Bar": must match [a-z0-9]+([-._~/][a-z0-9]+)*');
});

test('wrong types are rejected with the field named', () => {
  const cases: [(m: Record<string, unknown>, app: Record<string, unknown>) => void, string][] = [
    [(m) => { m.name = 42; }, 'name: must be a string, got number'],
    [(m) => { m.labels = { os: 'linux' }; }, 'labels: must be an array, got object'],
    [(_, a) => { a.exec = '/bin/sh'; }, 'app.exec: must be an array, got string'],
    [(_, a) => { a.exec = ['/bin/sh', 1]; }, 'app.exec[1]: must be a string, got number'],
    [(_, a) => { a.user = 1000; }, 'app.user: must be a string, got number'],
    [(_, a) => { a.supplementaryGIDs = ['10']; }, 'app.supplementaryGIDs[0]: must be an integer, got string'],
    [(_, a) => { a.ports = [{ name: 'p', protocol: 'tcp', port: '80' }]; }, 'app.ports[0].port: must be an integer, got string'],
    [(_, a) => { a.mountPoints = [{ name: 'm', path: '/m', readOnly: 'yes' }]; }, 'app.mountPoints[0].readOnly: must be a boolean, got string'],
    [(_, a) => { a.environment = { A: 'b' }; }, 'app.environment: must be an array, got object'],
    [(m) => { m.dependencies = [{ imageName: 'x', size: -1 }]; }, 'dependencies[0].size: must be in the range 0-9007199254740991, got -1'],
    [(m) => { m.pathWhitelist = [1]; }, 'pathWhitelist[0]: must be a string, got number'],
    [(m) => { m.app = []; }, 'app: must be an object, got array'],
  ];
  for (const [mutate, message] of cases) {
    const m = fullManifest();
    mutate(m, m.app as Record<string, unknown>);
    invalid(m, `invalid image manifest: ${message}`);
  }
});

test('app rules', () => {
  const cases: [(app: Record<string, unknown>) => void, string | RegExp][] = [
    [(a) => { delete a.user; }, 'app.user: is required'],
    [(a) => { a.group = ''; }, 'app.group: must not be empty'],
    [(a) => { a.workingDirectory = 'srv'; }, 'app.workingDirectory "srv": must be an absolute path'],
    [(a) => { a.eventHandlers = [{ name: 'pre-stop', exec: ['/x'] }]; }, 'app.eventHandlers[0].name "pre-stop": must be "pre-start" or "post-stop"'],
    [(a) => { a.eventHandlers = [{ name: 'pre-start', exec: ['/x'] }, { name: 'pre-start', exec: ['/y'] }]; }, 'app.eventHandlers[1]: duplicate event handler "pre-start"'],
    [(a) => { a.environment = [{ name: '1BAD', value: 'x' }]; }, 'app.environment[0].name "1BAD": must match [A-Za-z_][A-Za-z_0-9.-]*'],
    [(a) => { a.environment = [{ name: 'A', value: 'x' }, { name: 'A', value: 'y' }]; }, 'app.environment[1]: duplicate environment variable "A"'],
    [(a) => { a.exec = ['/bin/sh\u0000-c']; }, 'app.exec[0]: must not contain NUL characters'],
    [(a) => { a.mountPoints = [{ name: 'Data', path: '/d' }]; }, 'app.mountPoints[0].name "Data": must match [a-z0-9]+(-[a-z0-9]+)*'],
    [(a) => { a.mountPoints = [{ name: 'data' }]; }, 'app.mountPoints[0].path: is required'],
    [(a) => { a.ports = [{ name: 'p', protocol: 'tcp', port: 0 }]; }, 'app.ports[0].port: must be in the range 1-65535, got 0'],
    [(a) => { a.ports = [{ name: 'p', protocol: 'tcp', port: 65535, count: 2 }]; }, /app\.ports\[0\]\.count: port range 65535\+2 must end at or below 65535/],
    [(a) => { a.ports = [{ name: 'p', protocol: 'tcp' }]; }, 'app.ports[0].port: is required'],
    [(a) => { a.isolators = [{ name: 'resource/disk-write-bandwidth', value: { limit: '1M' } }]; }, /app\.isolators\[0\]\.name "resource\/disk-write-bandwidth": unknown isolator/],
    [(a) => { a.userLabels = { a: 1 }; }, 'app.userLabels.a: must be a string, got number'],
  ];
  for (const [mutate, expected] of cases) {
    const m = fullManifest();
    mutate(m.app as Record<string, unknown>);
    invalid(m, typeof expected === 'string' ? `invalid image manifest: ${expected}` : expected);
  }
});

test('dependency and whitelist rules', () => {
  const withDeps = (deps: unknown, whitelist: unknown = []): unknown => ({ ...fullManifest(), dependencies: deps, pathWhitelist: whitelist });
  assert.equal(parseImageManifest(withDeps([{ imageName: 'example.com/base', imageID: 'sha512-...' }])).dependencies[0]?.imageID, 'sha512-...');
  invalid(withDeps([{ imageID: 'sha512-abc' }]), 'invalid image manifest: dependencies[0].imageName: is required');
  invalid(withDeps([{ imageName: 'x', imageID: 'md5-abc' }]), 'invalid image manifest: dependencies[0].imageID "md5-abc": must be sha512-<hash>');
  invalid(withDeps([{ imageName: 'x', labels: [{ name: 'os', value: 'linux' }, { name: 'arch', value: 'x86_64' }] }]), /dependencies\[0\]\.labels: bad arch "x86_64"/);
  invalid(withDeps([], ['etc/passwd']), 'invalid image manifest: pathWhitelist[0] "etc/passwd": must be an absolute path');
});

test('error values are quoted and truncated, so hostile input cannot inject terminal escapes', () => {
  const evil = `\u001b[31m${'x'.repeat(200)}`;
  assert.throws(() => parseImageManifest({ acKind: 'ImageManifest', acVersion: '0.8.11', name: evil }), (err: unknown) => {
    assert.ok(err instanceof RktError);
    assert.ok(!err.message.includes('\u001b'));
    assert.ok(err.message.includes('\\u001b[31m'));
    assert.ok(err.message.length < 200);
    return true;
  });
});

test('a "__proto__" key in a string map stays a plain own key', () => {
  const raw = fullManifest();
  (raw.app as Record<string, unknown>).userLabels = JSON.parse('{"__proto__": "x", "a": "b"}');
  const m = parseImageManifest(raw);
  assert.equal(Object.getPrototypeOf(m.app?.userLabels), Object.prototype);
  assert.deepEqual(Object.keys(m.app?.userLabels ?? {}), ['__proto__', 'a']);
});

test('serialize -> parse round trip is lossless and stable', () => {
  const m = parseImageManifest(fullManifest());
  const text = serializeImageManifest(m);
  assert.deepEqual(parseImageManifest(text), m);
  assert.equal(serializeImageManifest(parseImageManifest(text)), text);
  assert.ok(text.startsWith('{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.org/batch-runner","labels":'));
  const minimal = serializeImageManifest(parseImageManifest({ acKind: 'ImageManifest', acVersion: '0.8.11', name: 'a' }));
  assert.equal(minimal, '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"a"}');
});

test('serializing an invalid manifest built in code fails instead of writing it', () => {
  const m = parseImageManifest(fullManifest());
  m.name = 'Not Valid';
  assert.throws(() => serializeImageManifest(m), /^RktError: invalid image manifest: name "Not Valid": must match/);
});
