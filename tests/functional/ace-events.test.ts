// appc executor conformance, nspawn stage1: pre-start runs before the app and post-stop after it, both in
// the app's own rootfs instance, as root (even for a non-root app), with the app's environment; the apps
// of a pod run at the same time and share their volumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeNspawnHarness, skipReason } from './nspawn-helpers.js';

const skip = skipReason();

const PASSWD = { 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nworker:x:1234:2345:w:/home/worker:/bin/sh\n', 'etc/group': 'root:x:0:\nworkers:x:2345:\n' };

test('pre-start runs as root in the app rootfs before the app, post-stop after it', { skip }, async () => {
  const h = await makeNspawnHarness();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rkt-ace-out-'));
  fs.chmodSync(out, 0o777);
  try {
    // Each stage records who ran it and which earlier stages left a marker in the app's rootfs (not in the
    // volume: that proves the same rootfs instance). pre-start, as root, makes the marker dir writable.
    const stage = (name: string): string[] => ['/bin/sh', '-c', [
      ...(name === 'prestart' ? ['mkdir -p /mark', 'chmod 1777 /mark'] : []),
      `echo "uid=$(id -u) app=$AC_APP_NAME prestart=$(test -e /mark/prestart && echo y || echo n) main=$(test -e /mark/main && echo y || echo n)" > /out/${name}`,
      `touch /mark/${name}`,
    ].join('; ')];
    const img = await h.image('evapp', stage('main'), {
      files: PASSWD,
      manifestExtra: {
        app: {
          exec: stage('main'), user: 'worker', group: 'workers',
          eventHandlers: [{ name: 'pre-start', exec: stage('prestart') }, { name: 'post-stop', exec: stage('poststop') }],
        },
      },
    });
    const r = await h.runPod([`--volume=out,kind=host,source=${out}`, img, '--mount=volume=out,target=/out']);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const read = (f: string): string => fs.readFileSync(path.join(out, f), 'utf8').trim();
    assert.equal(read('prestart'), 'uid=0 app=evapp prestart=n main=n');
    assert.equal(read('main'), 'uid=1234 app=evapp prestart=y main=n');
    assert.equal(read('poststop'), 'uid=0 app=evapp prestart=y main=y');
  } finally {
    await h.teardown();
    fs.rmSync(out, { recursive: true, force: true });
  }
});
