// Unit tests for the ACI writer shared by `image build` and `rkt export`: links kept as links (never
// followed), hardlinks, fifos and devices as entries, owners mapped, no-clobber and atomic output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { writeAciFile } from './aci-file.js';

const asRoot = process.getuid?.() === 0;

async function entries(file: string): Promise<Map<string, tar.Header & { body: string }>> {
  let data = await fs.readFile(file);
  if (data[0] === 0x1f && data[1] === 0x8b) data = zlib.gunzipSync(data);
  const out = new Map<string, tar.Header & { body: string }>();
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(Buffer.from(c as Uint8Array)));
      stream.on('end', () => {
        out.set(h.name, { ...h, body: Buffer.concat(chunks).toString() });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(data);
  await done;
  return out;
}

async function tree(): Promise<{ root: string; rootfs: string; secret: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'aci-file-test-'));
  const rootfs = path.join(root, 'rootfs');
  const secret = path.join(root, 'outside');
  await fs.mkdir(path.join(secret, 'dir'), { recursive: true });
  await fs.writeFile(path.join(secret, 'dir', 'host-secret'), 'do not export');
  await fs.writeFile(path.join(secret, 'file'), 'do not export either');
  await fs.mkdir(path.join(rootfs, 'etc'), { recursive: true });
  await fs.writeFile(path.join(rootfs, 'etc', 'written'), 'by the app');
  await fs.chmod(path.join(rootfs, 'etc', 'written'), 0o640);
  await fs.writeFile(path.join(rootfs, 'empty'), '');
  await fs.link(path.join(rootfs, 'etc', 'written'), path.join(rootfs, 'hard'));
  await fs.symlink(path.join(secret, 'dir'), path.join(rootfs, 'to-host-dir'));
  await fs.symlink('../../outside/file', path.join(rootfs, 'etc', 'to-host-file'));
  execFileSync('mkfifo', [path.join(rootfs, 'fifo')]);
  return { root, rootfs, secret };
}

test('links, hardlinks, fifos and devices become entries; nothing outside the tree is read', async () => {
  const t = await tree();
  try {
    if (asRoot) {
      execFileSync('mknod', [path.join(t.rootfs, 'null'), 'c', '1', '3']);
      await fs.chown(path.join(t.rootfs, 'etc', 'written'), 0x30000 + 12, 0x30000 + 34);
    }
    const sock = net.createServer().listen(path.join(t.rootfs, 'sock'));
    await new Promise((r) => sock.once('listening', r));
    const skipped: string[] = [];
    const devices: string[] = [];
    const out = path.join(t.root, 'out.aci');
    await writeAciFile(out, {
      manifest: Buffer.from('{"m":1}'), rootfs: t.rootfs, compression: 'gzip', overwrite: false,
      policy: {
        mtimes: 'keep', devices: 'keep',
        owner: (uid, gid) => ({ uid: uid >= 0x30000 ? uid - 0x30000 : uid, gid: gid >= 0x30000 ? gid - 0x30000 : gid }),
        onSkip: (n, why) => skipped.push(`${n}:${why}`), onDevice: (n) => devices.push(n),
      },
    });
    sock.close();
    const e = await entries(out);
    assert.equal(e.get('manifest')?.body, '{"m":1}');
    assert.equal(e.get('rootfs')?.type, 'directory');
    assert.equal(e.get('rootfs/to-host-dir')?.type, 'symlink');
    assert.equal(e.get('rootfs/to-host-dir')?.linkname, path.join(t.secret, 'dir'));
    assert.equal(e.get('rootfs/etc/to-host-file')?.linkname, '../../outside/file');
    assert.ok(![...e.keys()].some((k) => k.includes('host-secret')));
    assert.ok(![...e.values()].some((v) => v.body.includes('do not export')));
    assert.equal(e.get('rootfs/etc/written')?.body, 'by the app');
    assert.equal(e.get('rootfs/etc/written')?.mode, 0o640);
    assert.equal(e.get('rootfs/empty')?.size, 0);
    // the walk is sorted ("etc" before "hard"): the first name met holds the content, the second links to it
    assert.equal(e.get('rootfs/hard')?.type, 'link');
    assert.equal(e.get('rootfs/hard')?.linkname, 'rootfs/etc/written');
    assert.equal(e.get('rootfs/fifo')?.type, 'fifo');
    assert.ok(!e.has('rootfs/sock'));
    assert.deepEqual(skipped, ['rootfs/sock:socket']);
    assert.notEqual(e.get('rootfs/etc/written')?.mtime.getTime(), 0);
    if (asRoot) {
      assert.deepEqual([e.get('rootfs/etc/written')?.uid, e.get('rootfs/etc/written')?.gid], [12, 34]);
      assert.equal(e.get('rootfs/null')?.type, 'character-device');
      assert.deepEqual([e.get('rootfs/null')?.devmajor, e.get('rootfs/null')?.devminor], [1, 3]);
      assert.deepEqual(devices, ['rootfs/null']);
    }
    assert.deepEqual((await fs.readdir(t.root)).sort(), ['out.aci', 'outside', 'rootfs']);
  } finally {
    await fs.rm(t.root, { recursive: true, force: true });
  }
});

test('an existing output is refused without overwrite and replaced with it; a failure leaves no file', async () => {
  const t = await tree();
  try {
    const out = path.join(t.root, 'out.aci');
    await fs.writeFile(out, 'old');
    const o = { manifest: Buffer.from('{}'), rootfs: t.rootfs, compression: 'none' as const, policy: { mtimes: 'zero' as const, devices: 'skip' as const } };
    await assert.rejects(writeAciFile(out, { ...o, overwrite: false }), { message: `${out} already exists`, exitCode: 254 });
    assert.equal(await fs.readFile(out, 'utf8'), 'old');
    await writeAciFile(out, { ...o, overwrite: true });
    assert.equal((await entries(out)).get('rootfs/etc/written')?.mtime.getTime(), 0);
    // an owner the caller refuses: the error comes through, no temp file and no output stay
    const fresh = path.join(t.root, 'fresh.aci');
    await assert.rejects(
      writeAciFile(fresh, { ...o, overwrite: false, policy: { ...o.policy, owner: () => { throw new Error('no such owner'); } } }),
      /no such owner/,
    );
    assert.deepEqual((await fs.readdir(t.root)).sort(), ['out.aci', 'outside', 'rootfs']);
  } finally {
    await fs.rm(t.root, { recursive: true, force: true });
  }
});
