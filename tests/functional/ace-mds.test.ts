// appc executor conformance, nspawn stage1: with --mds-register the apps and their event handlers get
// AC_METADATA_URL (host address, the service's port, the pod's token) and reach the real metadata service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService } from './mds-helpers.js';
import { makeNspawnHarness, skipReason } from './nspawn-helpers.js';

const skip = skipReason();

test('apps and event handlers get AC_METADATA_URL and read their pod uuid from the metadata service', { skip }, async () => {
  const h = await makeNspawnHarness();
  const svc = await startService(h.dirs);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rkt-ace-mds-'));
  try {
    const get = (file: string): string =>
      `busybox wget -q -O /out/${file} --header "Metadata-Flavor: AppContainer" "$AC_METADATA_URL/acMetadata/v1/pod/uuid"; echo "$AC_METADATA_URL" > /out/${file}.url`;
    const img = await h.image('mdsapp', ['/bin/sh', '-c', get('main')], {
      manifestExtra: {
        app: {
          exec: ['/bin/sh', '-c', get('main')], user: '0', group: '0',
          eventHandlers: [{ name: 'pre-start', exec: ['/bin/sh', '-c', get('prestart')] }],
        },
      },
    });
    const r = await h.runPod(['--net=host', '--mds-register', `--volume=out,kind=host,source=${out}`, img, '--mount=volume=out,target=/out']);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    for (const f of ["prestart", "main"]) {
      assert.match(fs.readFileSync(path.join(out, `${f}.url`), 'utf8').trim(), new RegExp(`^http://127\\.0\\.0\\.1:${svc.port}/[^/]+$`));
      assert.equal(fs.readFileSync(path.join(out, f), 'utf8').trim(), r.uuid);
    }
  } finally {
    await h.teardown();
    await svc.stop();
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('without --mds-register the apps get no AC_METADATA_URL', { skip }, async () => {
  const h = await makeNspawnHarness();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rkt-ace-mds-'));
  try {
    const img = await h.image('nomds', ['/bin/sh', '-c', 'echo "url=${AC_METADATA_URL-unset}" > /out/url']);
    const r = await h.runPod(['--net=host', `--volume=out,kind=host,source=${out}`, img, '--mount=volume=out,target=/out']);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.equal(fs.readFileSync(path.join(out, 'url'), 'utf8').trim(), 'url=unset');
  } finally {
    await h.teardown();
    fs.rmSync(out, { recursive: true, force: true });
  }
});
