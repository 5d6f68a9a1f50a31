// What each stage1 does with an OCI image through the real CLI: the layer stack as one tree (whiteout,
// opaque dir) with and without --private-users, the VOLUME seeded from the image with its owners and
// mode, and the image's StopSignal as what `rkt stop` delivers to the app.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { busyboxImage, writeLayout, type BuiltImage } from '../harness/oci-image.js';
import { journalMessages, makeNspawnHarness, mountsUnder, skipReason as nspawnSkip, type NspawnHarness } from './nspawn-helpers.js';
import { makeKvmHarness, skipReason as kvmSkip } from './kvm-helpers.js';

// Owned by a user of the image (not root), mode 0750: the volume must keep both.
const DATA_UID = 1234;
const DATA_GID = 2345;

const APP = [
  // SIGINT ends the loop cleanly; under the default SIGTERM the shell would die without a word
  "trap 'echo got-sigint; exit 0' INT",
  'echo conf=$(ls /etc/conf | tr "\\n" ,)',
  'test -e /victim.txt && echo victim=present || echo victim=gone',
  'echo data=$(stat -c %u:%g:%a /data) seed=$(cat /data/seed.txt) seedown=$(stat -c %u /data/seed.txt)',
  'echo app-up',
  'while true; do sleep 0.2 & wait $!; done',
].join('; ');

function image(): Promise<BuiltImage> {
  return busyboxImage(
    { entrypoint: ['/bin/sh', '-c', APP], cmd: [], volumes: ['/data'], stopSignal: 'SIGINT' },
    [
      {
        entries: [
          { type: 'dir', path: 'etc/conf' },
          { type: 'file', path: 'etc/conf/old.txt', content: 'old\n' },
          { type: 'file', path: 'victim.txt', content: 'victim\n' },
          { type: 'dir', path: 'data', mode: 0o750, uid: DATA_UID, gid: DATA_GID },
          { type: 'file', path: 'data/seed.txt', content: 'from-the-image\n', uid: DATA_UID, gid: DATA_GID },
        ],
      },
      {
        entries: [
          { type: 'dir', path: 'etc' },
          { type: 'dir', path: 'etc/conf' },
          { type: 'opaque', dir: 'etc/conf' },
          { type: 'file', path: 'etc/conf/new.txt', content: 'new\n' },
          { type: 'whiteout', path: 'victim.txt' },
        ],
      },
    ],
  );
}

async function waitFor(what: string, f: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function body(h: NspawnHarness, flags: string[], upMs: number): Promise<void> {
  const dir = path.join(h.dirs.root, `layout-${flags.join('') || 'plain'}`);
  await writeLayout(dir, [{ image: await image(), name: 'v1' }]);
  const pod = await h.startPod([...flags, `oci:${dir}:v1`]);
  const podDir = h.findPodDir(pod.uuid);
  const lines = async (): Promise<string> => (await journalMessages(podDir, pod.uuid)).join('\n');
  await waitFor('the app to report', async () => (await lines()).includes('app-up'), upMs);

  const out = await lines();
  assert.match(out, /conf=new\.txt,$/m, out);
  assert.match(out, /victim=gone/);
  assert.match(out, new RegExp(`data=${DATA_UID}:${DATA_GID}:750 seed=from-the-image seedown=${DATA_UID}`));
  const layers = JSON.parse(fs.readFileSync(path.join(podDir, 'overlay-layers.json'), 'utf8')) as { name: string; lowers?: string[] }[];
  const stack = layers.find((l) => (l.lowers?.length ?? 0) >= 3);
  assert.ok(stack, `the app is not a layer stack: ${JSON.stringify(layers)}`);
  const flavor = JSON.parse(fs.readFileSync(path.join(podDir, 'stage1-flavor.json'), 'utf8')) as { flavor: string; flavorState: { ownership?: string } };
  if (flavor.flavor === 'nspawn' && flags.includes('--private-users')) {
    // each layer of the stack ID-mapped on its own, none chowned in the store
    assert.equal(flavor.flavorState.ownership, 'overlay-idmap');
    const mounts = mountsUnder(podDir);
    for (const i of (stack.lowers ?? []).keys()) {
      assert.ok(mounts.includes(path.join(podDir, 'overlay', stack.name, `idmapped-${i}`)), `layer ${i} is not ID-mapped: ${mounts.join(' ')}`);
    }
    for (const l of stack.lowers ?? []) assert.equal(fs.statSync(path.join(l, 'data', 'seed.txt'), { throwIfNoEntry: false })?.uid ?? DATA_UID, DATA_UID);
  }

  const manifest = JSON.parse(fs.readFileSync(path.join(podDir, 'pod'), 'utf8')) as { apps: { name: string }[] };
  const app = manifest.apps[0]?.name ?? '';
  const unit = fs.readFileSync(path.join(podDir, 'stage1', 'rootfs', 'etc', 'systemd', 'system', `app-${app}.service`), 'utf8');
  assert.match(unit, /^KillSignal=2$/m);

  const stop = await h.rkt(['stop', pod.uuid]);
  assert.equal(stop.exitCode, 0, stop.stderr);
  await pod.done;
  const after = await lines();
  assert.match(after, /got-sigint/, 'the app did not get SIGINT on rkt stop');
  const rm = await h.rkt(['rm', pod.uuid]);
  assert.equal(rm.exitCode, 0, rm.stderr);
  assert.deepEqual(mountsUnder(podDir), [], 'rm left mounts (overlays, ID-mapped layers) behind');
}

const flavors = [
  { name: 'nspawn', skip: nspawnSkip(), make: makeNspawnHarness, upMs: 60_000 },
  { name: 'kvm', skip: kvmSkip(), make: makeKvmHarness, upMs: 150_000 },
] as const;

for (const f of flavors) {
  for (const flags of [[], ['--private-users']]) {
    test(`${f.name}${flags.length > 0 ? ` ${flags.join(' ')}` : ''}: OCI layer stack, seeded VOLUME, StopSignal on rkt stop`, { skip: f.skip }, async () => {
      const h = await f.make();
      try {
        await body(h, flags, f.upMs);
      } finally {
        await h.teardown();
      }
    });
  }
}
