// A pod that plants symlinks, FIFOs and huge files where stage0 and the stage1 read and write its status
// files: nothing outside the pod is read or written, and nothing blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRktError } from './errors.js';
import { podWrittenMtime, readPodWrittenFile, replacePodFile, STATUS_FILE_MAX } from './pod-written-file.js';

async function scratch(): Promise<{ pod: string; host: string; done(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pod-written-'));
  const pod = path.join(dir, 'pod');
  const host = path.join(dir, 'host');
  await fs.mkdir(path.join(pod, 'stage1/rootfs/rkt/status'), { recursive: true });
  await fs.mkdir(host);
  await fs.writeFile(path.join(host, 'secret'), '42\n');
  return { pod, host, done: () => fs.rm(dir, { recursive: true, force: true }) };
}

const status = (pod: string, app: string): string => path.join(pod, 'stage1/rootfs/rkt/status', app);

test('reads a plain status file; a symlink, a FIFO, a directory or a huge file read as absent', async () => {
  const s = await scratch();
  try {
    await fs.writeFile(status(s.pod, 'ok'), '7\n');
    assert.equal((await readPodWrittenFile(s.pod, status(s.pod, 'ok')))?.text, '7\n');
    assert.ok((await podWrittenMtime(s.pod, status(s.pod, 'ok'))) instanceof Date);
    await fs.symlink(path.join(s.host, 'secret'), status(s.pod, 'link'));
    assert.equal(await readPodWrittenFile(s.pod, status(s.pod, 'link')), undefined);
    assert.equal(await podWrittenMtime(s.pod, status(s.pod, 'link')), undefined);
    execFileSync('mkfifo', [status(s.pod, 'fifo')]);
    assert.equal(await readPodWrittenFile(s.pod, status(s.pod, 'fifo')), undefined, 'a FIFO is not opened (it would block)');
    await fs.mkdir(status(s.pod, 'dir'));
    assert.equal(await readPodWrittenFile(s.pod, status(s.pod, 'dir')), undefined);
    await fs.writeFile(status(s.pod, 'huge'), Buffer.alloc(STATUS_FILE_MAX + 1, 0x30));
    assert.equal(await readPodWrittenFile(s.pod, status(s.pod, 'huge')), undefined);
    assert.equal(await readPodWrittenFile(s.pod, status(s.pod, 'missing')), undefined);
  } finally {
    await s.done();
  }
});

test('a directory on the way swapped for a symlink to the host is not followed', async () => {
  const s = await scratch();
  try {
    const rkt = path.join(s.pod, 'stage1/rootfs/rkt');
    await fs.rm(path.join(rkt, 'status'), { recursive: true });
    await fs.symlink(s.host, path.join(rkt, 'status'));
    assert.equal(await readPodWrittenFile(s.pod, status(s.pod, 'secret')), undefined);
  } finally {
    await s.done();
  }
});

test('replacePodFile writes through no symlink: not the file, not a planted temp file, not a directory', async () => {
  const s = await scratch();
  try {
    const root = path.join(s.pod, 'stage1/rootfs');
    const secret = path.join(s.host, 'secret');
    // the file itself is a symlink: it is replaced by a plain file, its target untouched
    await fs.symlink(secret, status(s.pod, 'a'));
    await replacePodFile(root, status(s.pod, 'a'), '0\n');
    assert.equal(await fs.readFile(secret, 'utf8'), '42\n');
    assert.ok((await fs.lstat(status(s.pod, 'a'))).isFile());
    // a temp file planted ahead of the write
    await fs.symlink(secret, path.join(path.dirname(status(s.pod, 'b')), '.b.rkt-tmp'));
    await replacePodFile(root, status(s.pod, 'b'), '1\n');
    assert.equal(await fs.readFile(secret, 'utf8'), '42\n');
    assert.equal(await fs.readFile(status(s.pod, 'b'), 'utf8'), '1\n');
    // a directory on the way: refused with the pod named as the culprit, the host directory untouched
    await fs.symlink(s.host, path.join(root, 'etc'));
    await assert.rejects(replacePodFile(root, path.join(root, 'etc/secret'), 'owned\n'), (err: unknown) =>
      isRktError(err) && err.code === 'POD_INVALID' && /etc is a symlink/.test(err.message));
    assert.equal(await fs.readFile(secret, 'utf8'), '42\n');
    assert.deepEqual(await fs.readdir(s.host), ['secret']);
  } finally {
    await s.done();
  }
});

test('replacePodFile keeps the owner of the file it replaces (a user-namespaced pod\'s shifted ids)', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async () => {
  const s = await scratch();
  try {
    const root = path.join(s.pod, 'stage1/rootfs');
    const f = path.join(root, 'etc-passwd');
    await fs.writeFile(f, 'root:x:0:0::/:/bin/sh\n');
    await fs.chown(f, 100000, 100000);
    await replacePodFile(root, f, 'root:x:0:0::/:/bin/sh\nrkt-uid-5:x:5:5::/:/usr/sbin/nologin\n', 0o644);
    const st = await fs.stat(f);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [100000, 100000, 0o644]);
  } finally {
    await s.done();
  }
});
