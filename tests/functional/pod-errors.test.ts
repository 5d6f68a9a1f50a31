// Wrong input and wrong states: usage errors (exit 2) name the flag; rkt errors (exit 254) are one clear line
// and leave pods and the store as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makePodHarness, type PodHarness } from '../harness/pod.js';

async function withHarness(fn: (h: PodHarness) => Promise<void>): Promise<void> {
  const h = await makePodHarness('rkt-err-');
  try {
    await fn(h);
  } finally {
    await h.cleanup();
  }
}

test('usage errors: unknown flags, misplaced app flags, --pod-manifest conflicts', async () => {
  await withHarness(async (h) => {
    const cases: [string[], RegExp][] = [
      [['run', '--no-such-flag', 'x.aci'], /unknown flag --no-such-flag/],
      [['run', 'x.aci', '--bogus=1'], /unknown flag --bogus/],
      [['prepare', '--exec=/bin/sh', 'x.aci'], /--exec must follow an image/],
      [['prepare', '--net=host', 'x.aci'], /flag --net is not valid for rkt prepare/],
      [['run', '--pod-manifest=/nonexistent', 'x.aci'], /--pod-manifest conflicts with images/],
      [['run', '--pod-manifest=/nonexistent', '--volume=v,kind=empty'], /--pod-manifest conflicts with --volume/],
      [['run', '--pod-manifest=/nonexistent', '--set-env=A=B'], /--pod-manifest conflicts with --set-env/],
      [['run', '--interactive', 'a.aci', 'b.aci'], /--interactive is only supported with one image/],
      [['run'], /at least one image is required/],
      [['run', 'x.aci', '--', 'a', '---', '--', 'b'], /"--" must follow an image|only one "--"/],
      [['list', '--bogus'], /unknown option '--bogus'/],
      [['gc', '--grace-period=soon'], /invalid --grace-period/],
    ];
    for (const [args, re] of cases) {
      const r = await h.rkt(args);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    assert.deepEqual(await fs.readdir(h.dirs.dir).catch(() => []), [], 'usage errors create nothing');
  });
});

test('missing image: prepare fails, pod goes to garbage, --uuid-file-save lets rm clean it', async () => {
  await withHarness(async (h) => {
    const uuidFile = path.join(h.dirs.root, 'uuid');
    const r = await h.rkt(['prepare', ...h.stage1Flags(), `--uuid-file-save=${uuidFile}`, path.join(h.dirs.root, 'missing.aci')]);
    assert.equal(r.exitCode, 254);
    assert.equal(r.stderr.trim().split('\n').filter((l) => !l.includes('warning')).length, 1, r.stderr);
    const uuid = (await fs.readFile(uuidFile, 'utf8')).trim();
    assert.match((await h.rkt(['status', uuid])).stdout, /^state=garbage$/m);
    const rm = await h.rkt(['rm', `--uuid-file=${uuidFile}`]);
    assert.equal(rm.exitCode, 0, rm.stderr);
    assert.equal(rm.stdout.trim(), `"${uuid}"`);
    assert.equal((await h.rkt(['status', uuid])).exitCode, 254);
  });
});

test('a failed prepare leaves no mounts and moves the pod to garbage', async () => {
  await withHarness(async (h) => {
    const img = await h.image('badmount', ['/bin/true']);
    const r = await h.rkt(['prepare', ...h.stage1Flags(), img, '--mount=volume=undeclared,target=/x']);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /volume "undeclared", which is not declared/);
    const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(h.dirs.dir));
    const garbage = await fs.readdir(path.join(h.dirs.dir, 'pods', 'garbage'));
    assert.equal(garbage.length, 1, 'the failed pod is in garbage/');
  });
});

test('uuid prefixes: unique prefix resolves, ambiguous prefix and unknown uuid fail', async () => {
  await withHarness(async (h) => {
    const prepared = path.join(h.dirs.dir, 'pods', 'prepared');
    await fs.mkdir(prepared, { recursive: true });
    const u1 = 'abcdef01-0000-4000-8000-000000000001';
    const u2 = 'abcdef02-0000-4000-8000-000000000002';
    for (const u of [u1, u2]) await fs.mkdir(path.join(prepared, u));
    const amb = await h.rkt(['status', 'abcdef0']);
    assert.equal(amb.exitCode, 254);
    assert.match(amb.stderr, /ambiguous uuid, 2 pods match "abcdef0"/);
    const one = await h.rkt(['status', 'ABCDEF02']);
    assert.equal(one.exitCode, 0, one.stderr);
    assert.match(one.stdout, /^state=prepared$/m);
    const none = await h.rkt(['rm', '0123']);
    assert.equal(none.exitCode, 254);
    assert.match(none.stderr, /no pod matches uuid prefix "0123"/);
    const list = await h.rkt(['list', '--no-legend']);
    assert.equal(list.stdout.trim().split('\n').length, 2, 'pods without a manifest are listed');
    assert.match(list.stdout, /abcdef01\t+-\t+-\t+prepared/);
  });
});
