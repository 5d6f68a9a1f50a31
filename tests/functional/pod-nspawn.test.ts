// Stage0 with the real nspawn stage1 (the built-in default): exit code, status, logs from the pod's journal
// without machined, gc. Skipped when dist/stage1-images/stage1-nspawn.aci has not been built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePodHarness } from '../harness/pod.js';

const NSPAWN_ACI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../stage1-images/stage1-nspawn.aci');

test('default stage1 (nspawn): exit code, status, rkt logs, gc', async (t) => {
  try {
    await fs.access(NSPAWN_ACI);
  } catch {
    t.skip(`${NSPAWN_ACI} not built (bash scripts/build-stage1-images.sh)`);
    return;
  }
  const h = await makePodHarness('rkt-nsp-');
  try {
    const img = await h.image('hello', ['/bin/sh', '-c', 'echo hello-from-the-pod; exit 3']);
    const uuidFile = path.join(h.dirs.root, 'uuid');
    const r = await h.rkt(['run', `--uuid-file-save=${uuidFile}`, img]);
    assert.equal(r.exitCode, 3, r.stderr);
    const uuid = (await fs.readFile(uuidFile, 'utf8')).trim();
    const st = await h.rkt(['status', uuid]);
    assert.match(st.stdout, /^state=exited$/m);
    assert.match(st.stdout, /^app-hello=3$/m);
    const logs = await h.rkt(['logs', '--app=hello', uuid]);
    assert.equal(logs.exitCode, 0, logs.stderr);
    assert.match(logs.stdout, /hello\[\d+\]: hello-from-the-pod/);
    const all = await h.rkt(['logs', '--lines=1000', uuid]);
    assert.match(all.stdout, /hello-from-the-pod/);
    const gc = await h.rkt(['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.match(gc.stdout, new RegExp(`Garbage collecting pod "${uuid}"`));
    const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(h.dirs.dir), 'no mounts left');
  } finally {
    await h.cleanup();
  }
});
