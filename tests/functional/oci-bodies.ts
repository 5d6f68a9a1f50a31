// OCI image scenarios shared by the nspawn and kvm stage1s: one body per behaviour, each flavour's test
// file passes its harness. Images are built by tests/harness/oci-image.ts into an OCI layout and run
// through the real CLI (unsigned: the harness passes --insecure-options=image).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { busyboxImage, TEST_USER, writeLayout, type BuiltImage } from '../harness/oci-image.js';
import { journalMessages, type NspawnHarness } from './nspawn-helpers.js';

/** A two-layer image: busybox + files below; the top layer makes /etc/conf opaque and deletes /victim.txt. */
export async function layeredImage(): Promise<BuiltImage> {
  return busyboxImage(
    {
      user: TEST_USER.name,
      entrypoint: ['/bin/sh', '-c'],
      cmd: ['echo the-default-cmd'],
      workingDir: TEST_USER.home,
      env: ['PATH=/bin', 'FOO=from-the-image'],
      exposedPorts: ['8080/tcp'],
      volumes: ['/data'],
      stopSignal: 'SIGINT',
      labels: { 'org.opencontainers.image.title': 'layered' },
    },
    [
      {
        compression: 'gzip',
        entries: [
          { type: 'dir', path: 'etc/conf' },
          { type: 'file', path: 'etc/conf/old.txt', content: 'old\n' },
          { type: 'file', path: 'victim.txt', content: 'victim\n' },
          { type: 'dir', path: 'data' },
          { type: 'file', path: 'data/seed.txt', content: 'seeded-from-the-image\n' },
        ],
      },
      {
        compression: 'zstd',
        entries: [
          { type: 'opaque', dir: 'etc/conf' },
          { type: 'file', path: 'etc/conf/new.txt', content: 'new\n' },
          { type: 'whiteout', path: 'victim.txt' },
        ],
      },
    ],
  );
}

export async function layoutWith(h: NspawnHarness, tag: string, img: BuiltImage): Promise<string> {
  const dir = path.join(h.dirs.root, `layout-${tag}`);
  await writeLayout(dir, [{ image: img, name: tag }]);
  return dir;
}

const SCRIPT = [
  'echo uid=$(id -u) gid=$(id -g) groups=$(id -G)',
  'echo conf=$(ls /etc/conf | tr "\\n" ,)',
  'test -e /victim.txt && echo victim=present || echo victim=gone',
  'echo seed=$(cat /data/seed.txt)',
  'echo foo=$FOO pwd=$(pwd)',
  'exit 7',
].join('; ');

/**
 * Named user (uid, primary group, supplementary group from the image's /etc/group), opaque directory,
 * whiteout, VOLUME seeded from the image, Env and WorkingDir, `-- ARGS ---` replacing Cmd (not appended
 * to it), the exit code, the journal, and the exposed port usable by name.
 */
export async function ociRunBody(h: NspawnHarness, runFlags: string[] = []): Promise<void> {
  const dir = await layoutWith(h, 'v1', await layeredImage());
  const r = await h.runPod([...runFlags, `--port=8080-tcp:18080`, `oci:${dir}:v1`, '--', SCRIPT, '---']);
  assert.equal(r.exitCode, 7, r.stderr);
  const podDir = h.findPodDir(r.uuid);
  const lines = (await journalMessages(podDir, r.uuid)).join('\n') + r.stdout;
  assert.match(lines, new RegExp(`uid=${TEST_USER.uid} gid=${TEST_USER.gid} groups=${TEST_USER.gid} 3456`));
  assert.match(lines, /conf=new\.txt,/);
  assert.match(lines, /victim=gone/);
  assert.match(lines, /seed=seeded-from-the-image/);
  assert.match(lines, new RegExp(`foo=from-the-image pwd=${TEST_USER.home}`));
  assert.doesNotMatch(lines, /the-default-cmd/);
  const pm = JSON.parse(fs.readFileSync(path.join(podDir, 'pod'), 'utf8')) as { ports: { name: string; hostPort: number }[] };
  assert.deepEqual(pm.ports.map((p) => [p.name, p.hostPort]), [['8080-tcp', 18080]]);
}

/** Without args the image's Entrypoint + Cmd run; --exec replaces the Entrypoint and drops Cmd, as docker run --entrypoint. */
export async function ociExecBody(h: NspawnHarness): Promise<void> {
  const dir = await layoutWith(h, 'v1', await layeredImage());
  const plain = await h.runPod([`oci:${dir}:v1`]);
  assert.equal(plain.exitCode, 0, plain.stderr);
  const podDir = h.findPodDir(plain.uuid);
  assert.ok((await journalMessages(podDir, plain.uuid)).join('\n').includes('the-default-cmd') || plain.stdout.includes('the-default-cmd'));
  const exec = await h.runPod([`oci:${dir}:v1`, '--exec=/bin/sh', '--', '-c', 'exit 3', '---']);
  assert.equal(exec.exitCode, 3, exec.stderr);
}

/**
 * An OCI image's ExposedPort forwarded by name from the host (`--port=8080-tcp:HOSTPORT` on the default
 * network), `rkt enter` into the running app as the image's user, and `rkt stop`.
 */
export async function ociPortEnterBody(h: NspawnHarness, hostPort: number, get: (port: number) => Promise<string>): Promise<void> {
  const img = await busyboxImage({
    user: TEST_USER.name,
    exposedPorts: ['8080/tcp'],
    cmd: ['/bin/sh', '-c', 'while true; do echo oci-port-hello | nc -l -p 8080; done'],
  });
  const dir = await layoutWith(h, 'srv', img);
  const pod = await h.startPod(['--net=default', `--port=8080-tcp:${hostPort}`, `oci:${dir}:srv`]);
  let got = '';
  for (let i = 0; i < 60 && !got.includes('oci-port-hello'); i++) {
    got = await get(hostPort).catch(() => '');
    if (!got.includes('oci-port-hello')) await new Promise((r) => setTimeout(r, 500));
  }
  assert.match(got, /oci-port-hello/);
  const enter = await h.rkt(['enter', pod.uuid, '/bin/sh', '-c', 'id -u']);
  assert.equal(enter.exitCode, 0, enter.stderr);
  assert.equal(enter.stdout.trim(), String(TEST_USER.uid));
  const stop = await h.rkt(['stop', pod.uuid]);
  assert.equal(stop.exitCode, 0, stop.stderr);
  await pod.done;
}
