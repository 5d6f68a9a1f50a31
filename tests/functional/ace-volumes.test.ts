// appc executor conformance, nspawn stage1: the apps of a pod run at the same time and share volumes: an
// empty volume (mode/uid/gid as given, starting empty, read-write for both) and a read-only host volume;
// image mountPoints are filled by name with --mount.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { journalMessages, makeNspawnHarness, skipReason } from './nspawn-helpers.js';

const skip = skipReason();

/** Leaves its marker, then waits up to 20 s for the peer's (so both must run at once), then probes. */
function peer(self: string, other: string): string[] {
  return ['/bin/sh', '-c', [
    `echo "start=$(ls -A /db | grep -v "^${other}$" | tr "\\n" " ")"`,
    `touch /db/${self}`,
    `i=0; while [ ! -e /db/${other} ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done`,
    `test -e /db/${other} && echo saw-${other}`,
    'echo "db=$(stat -c "%a %u %g" /db)"',
    'echo "shared=$(cat /shared/hello)"',
    'if touch /shared/x 2>/dev/null; then echo shared-rw; else echo shared-ro; fi',
  ].join('; ')];
}

test('two apps start together and share an empty volume (mode/uid/gid) and a read-only host volume', { skip }, async () => {
  const h = await makeNspawnHarness();
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'rkt-ace-vol-'));
  fs.writeFileSync(path.join(src, 'hello'), 'from host\n');
  try {
    const mountPoints = [{ name: 'database', path: '/db', readOnly: false }, { name: 'shared', path: '/shared', readOnly: false }];
    const a = await h.image('ace-a', peer('a', 'b'), { manifestExtra: { app: { exec: peer('a', 'b'), user: '0', group: '0', mountPoints } } });
    const b = await h.image('ace-b', peer('b', 'a'), { manifestExtra: { app: { exec: peer('b', 'a'), user: '0', group: '0', mountPoints } } });
    const r = await h.runPod([
      '--net=host', '--volume=database,kind=empty,mode=0770,uid=1234,gid=2345',
      `--volume=shared,kind=host,source=${src},readOnly=true`, a, b,
    ]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout + (await journalMessages(h.findPodDir(r.uuid), r.uuid)).slice(-25).join('\n'));
    for (const [app, other] of [['ace-a', 'b'], ['ace-b', 'a']] as const) {
      const out = (await journalMessages(h.findPodDir(r.uuid), r.uuid, app)).join('\n');
      assert.match(out, /^start=\s*$/m, `${app}: the empty volume starts empty\n${out}`);
      assert.match(out, new RegExp(`^saw-${other}$`, 'm'), `${app} ran alone\n${out}`);
      assert.match(out, /^db=770 1234 2345$/m);
      assert.match(out, /^shared=from host$/m);
      assert.match(out, /^shared-ro$/m);
    }
    assert.deepEqual(fs.readdirSync(src), ['hello']);
  } finally {
    await h.teardown();
    fs.rmSync(src, { recursive: true, force: true });
  }
});
