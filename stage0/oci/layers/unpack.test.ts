import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { RktError } from '../../../common/errors.js';
import { lgetxattr } from '../../../common/native.js';
import { unpackLayer, type UnpackOptions, type UnpackResult } from './unpack.js';
import { OPAQUE_XATTR } from './writer.js';
import { chunked, layerFromTar, makeLayer, makeTar, sha256, tempDir, type TestEntry, type TestLayer } from './testutil.js';
import type { LayerCompression } from '../documents.js';

const asRoot = process.getuid?.() === 0;

// A version 2 vfs_cap_data granting cap_net_raw (bit 13) permitted + effective: binary, not UTF-8.
const CAP_NET_RAW = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

async function unpack(layer: TestLayer, root: string, extra: Partial<UnpackOptions> = {}): Promise<UnpackResult> {
  return unpackLayer({
    source: chunked(layer.blob),
    descriptor: layer.descriptor,
    diffId: layer.diffId,
    rootfs: root,
    what: 'layer 1/1 sha256:testtest',
    ...extra,
  });
}

async function withRoot<T>(fn: (root: string, base: string) => Promise<T>): Promise<T> {
  const t = tempDir('rkt-layer-');
  try {
    const root = path.join(t.dir, 'rootfs');
    fs.mkdirSync(root, { mode: 0o700 });
    return await fn(root, t.dir);
  } finally {
    t.cleanup();
  }
}

/** Asserts a one-line RktError with `code` whose message names the layer and matches `re`. */
async function refuses(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RktError, `not an RktError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, re);
    assert.match(err.message, /layer 1\/1 sha256:testtest/);
    assert.ok(!err.message.includes('\n'), 'one line');
    assert.ok(err.hint, 'has a hint');
    return true;
  });
}

const BASIC: TestEntry[] = [
  { name: './', type: 'dir', mode: 0o755, mtime: 1_000_000 },
  { name: './etc/', type: 'dir', mode: 0o750, uid: 0, gid: 42, mtime: 1_100_000 },
  { name: './etc/hostname', body: 'box\n', mode: 0o640, uid: 7, gid: 8, mtime: 1_200_000 },
  { name: 'usr/bin/ping', body: 'ELF', mode: 0o755, xattrs: { 'security.capability': CAP_NET_RAW, 'user.note': 'hi' } },
  { name: 'usr/bin/su', body: 'su', mode: 0o4755 },
  { name: 'usr/bin/pong', type: 'link', linkname: 'usr/bin/ping' },
  { name: 'bin', type: 'symlink', linkname: 'usr/bin', uid: 5, gid: 6, mtime: 1_300_000 },
  { name: 'run/fifo', type: 'fifo', mode: 0o620 },
  { name: `deep/${'d'.repeat(120)}/file`, body: 'long name' },
];

for (const kind of ['gzip', 'zstd', 'none'] as LayerCompression[]) {
  test(`unpacks files, dirs, symlinks, hardlinks, fifos, owners, modes, times and xattrs (${kind})`, { skip: !asRoot }, async () => {
    await withRoot(async (root, base) => {
      const layer = makeLayer(BASIC, kind);
      const blobOut = path.join(base, 'blob');
      let last = 0;
      const r = await unpack(layer, root, { blobOut, onBytes: (n) => (last = n) });
      assert.deepEqual(r, { compressedSize: layer.blob.length, uncompressedSize: layer.tar.length, entries: BASIC.length, compression: kind });
      assert.equal(last, layer.blob.length);
      assert.deepEqual(fs.readFileSync(blobOut), layer.blob);
      assert.equal(fs.statSync(blobOut).mode & 0o777, 0o600);

      const st = fs.statSync(root);
      assert.equal(st.mode & 0o7777, 0o755);
      assert.equal(st.mtimeMs, 1_000_000_000);
      const etc = fs.statSync(path.join(root, 'etc'));
      assert.equal(etc.mode & 0o7777, 0o750);
      assert.equal(etc.gid, 42);
      assert.equal(etc.mtimeMs, 1_100_000_000);
      const host = fs.statSync(path.join(root, 'etc/hostname'));
      assert.equal(fs.readFileSync(path.join(root, 'etc/hostname'), 'utf8'), 'box\n');
      assert.deepEqual([host.mode & 0o7777, host.uid, host.gid, host.mtimeMs], [0o640, 7, 8, 1_200_000_000]);
      // Implicit parents: 0755 root:root.
      const usr = fs.statSync(path.join(root, 'usr/bin'));
      assert.deepEqual([usr.mode & 0o7777, usr.uid, usr.gid], [0o755, 0, 0]);
      assert.deepEqual(lgetxattr(path.join(root, 'usr/bin/ping'), 'security.capability'), CAP_NET_RAW);
      assert.equal(lgetxattr(path.join(root, 'usr/bin/ping'), 'user.note')?.toString(), 'hi');
      assert.equal(fs.statSync(path.join(root, 'usr/bin/su')).mode & 0o7777, 0o4755);
      assert.equal(fs.statSync(path.join(root, 'usr/bin/pong')).ino, fs.statSync(path.join(root, 'usr/bin/ping')).ino);
      const bin = fs.lstatSync(path.join(root, 'bin'));
      assert.ok(bin.isSymbolicLink());
      assert.equal(fs.readlinkSync(path.join(root, 'bin')), 'usr/bin');
      assert.deepEqual([bin.uid, bin.gid, bin.mtimeMs], [5, 6, 1_300_000_000]);
      const fifo = fs.lstatSync(path.join(root, 'run/fifo'));
      assert.ok(fifo.isFIFO());
      assert.equal(fifo.mode & 0o7777, 0o620);
      assert.equal(fs.readFileSync(path.join(root, `deep/${'d'.repeat(120)}/file`), 'utf8'), 'long name');
    });
  });
}

test('reads archives written by tar-stream and by GNU tar', { skip: !asRoot }, async () => {
  await withRoot(async (root, base) => {
    const pack = tarStream.pack();
    pack.entry({ name: 'a/b.txt', mode: 0o600, uid: 3, gid: 4 }, 'bee');
    pack.entry({ name: 'a/c', type: 'symlink', linkname: '/etc/passwd' });
    pack.entry({ name: `long/${'x'.repeat(200)}`, mode: 0o644 }, 'long');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    await unpack(layerFromTar(Buffer.concat(chunks), 'gzip'), root);
    assert.equal(fs.readFileSync(path.join(root, 'a/b.txt'), 'utf8'), 'bee');
    assert.equal(fs.statSync(path.join(root, 'a/b.txt')).uid, 3);
    assert.equal(fs.readlinkSync(path.join(root, 'a/c')), '/etc/passwd');
    assert.equal(fs.readFileSync(path.join(root, `long/${'x'.repeat(200)}`), 'utf8'), 'long');

    const src = path.join(base, 'src');
    fs.mkdirSync(path.join(src, `g/${'y'.repeat(150)}`), { recursive: true });
    fs.writeFileSync(path.join(src, `g/${'y'.repeat(150)}/z`), 'gnu');
    fs.linkSync(path.join(src, `g/${'y'.repeat(150)}/z`), path.join(src, 'g/hard'));
    for (const format of ['gnu', 'posix']) {
      const gnu = execFileSync('tar', ['-c', `--format=${format}`, '-C', src, '.']);
      const root2 = path.join(base, `r-${format}`);
      fs.mkdirSync(root2);
      await unpack(layerFromTar(gnu, 'none'), root2);
      assert.equal(fs.readFileSync(path.join(root2, `g/${'y'.repeat(150)}/z`), 'utf8'), 'gnu');
      assert.equal(fs.statSync(path.join(root2, 'g/hard')).nlink, 2);
    }
  });
});

test('a plain tar labelled gzip is read as what its magic says', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const tar = makeTar([{ name: 'f', body: 'x' }]);
    const layer = layerFromTar(tar, 'gzip', tar);
    const lines: string[] = [];
    const r = await unpack(layer, root, { debug: (l) => lines.push(l) });
    assert.equal(r.compression, 'none');
    assert.match(lines.join('\n'), /descriptor says gzip .* reading it as none/);
  });
});

test('whiteouts become 0:0 character devices and opaque markers trusted.overlay.opaque', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    await unpack(makeLayer([
      { name: 'etc/.wh.motd' },
      { name: '.wh.tmp' },
      { name: 'var/cache/.wh..wh..opq' },
      { name: 'var/cache/new', body: 'n' },
      { name: 'keep/.wh.x' },
      { name: 'keep/x', body: 'this layer has x itself: the real entry wins' },
      { name: 'dirwh/.wh.sub' },
      { name: 'dirwh/sub/inner', body: 'i' },
      { name: '.wh..wh.plnk/123.456', body: 'aufs' },
      { name: '.wh..wh.aufs' },
    ]), root);
    for (const p of ['etc/motd', 'tmp']) {
      const st = fs.lstatSync(path.join(root, p));
      assert.ok(st.isCharacterDevice(), p);
      assert.equal(st.rdev, 0);
    }
    assert.equal(lgetxattr(path.join(root, 'var/cache'), OPAQUE_XATTR)?.toString(), 'y');
    assert.equal(lgetxattr(path.join(root, 'var'), OPAQUE_XATTR), null);
    assert.equal(fs.readFileSync(path.join(root, 'keep/x'), 'utf8'), 'this layer has x itself: the real entry wins');
    // A directory that replaces its own whiteout hides the lower one's contents: opaque.
    assert.equal(lgetxattr(path.join(root, 'dirwh/sub'), OPAQUE_XATTR)?.toString(), 'y');
    assert.equal(fs.readFileSync(path.join(root, 'dirwh/sub/inner'), 'utf8'), 'i');
    assert.ok(!fs.existsSync(path.join(root, '.wh..wh.plnk')));
    assert.ok(!fs.existsSync(path.join(root, '.wh..wh.aufs')));
    assert.deepEqual(fs.readdirSync(root).sort(), ['dirwh', 'etc', 'keep', 'tmp', 'var']);
  });
});

interface Refusal {
  readonly title: string;
  readonly entries: TestEntry[];
  readonly code: 'IMAGE_HOSTILE' | 'IMAGE_INVALID';
  readonly re: RegExp;
}

const REFUSALS: Refusal[] = [
  { title: '".." component', entries: [{ name: 'a/../../etc/passwd', body: 'x' }], code: 'IMAGE_HOSTILE', re: /"\.\." path component/ },
  { title: 'absolute name', entries: [{ name: '/etc/passwd', body: 'x' }], code: 'IMAGE_HOSTILE', re: /absolute path/ },
  { title: 'write through a symlink', entries: [{ name: 'lnk', type: 'symlink', linkname: '/etc' }, { name: 'lnk/passwd', body: 'x' }], code: 'IMAGE_HOSTILE', re: /through symlink "lnk"/ },
  { title: 'entry inside a file', entries: [{ name: 'f', body: 'x' }, { name: 'f/g', body: 'y' }], code: 'IMAGE_HOSTILE', re: /inside "f", which is not a directory/ },
  { title: 'non-directory over a directory with children', entries: [{ name: 'd/x', body: 'x' }, { name: 'd', type: 'symlink', linkname: '/' }], code: 'IMAGE_HOSTILE', re: /earlier entries put files inside it/ },
  { title: 'hardlink outside the layer', entries: [{ name: 'h', type: 'link', linkname: '../../etc/shadow' }], code: 'IMAGE_HOSTILE', re: /"\.\." path component/ },
  { title: 'hardlink to a later or missing file', entries: [{ name: 'h', type: 'link', linkname: 'etc/shadow' }], code: 'IMAGE_HOSTILE', re: /not an earlier regular file/ },
  { title: 'hardlink to a symlink', entries: [{ name: 's', type: 'symlink', linkname: '/etc/shadow' }, { name: 'h', type: 'link', linkname: 's' }], code: 'IMAGE_HOSTILE', re: /not an earlier regular file/ },
  { title: 'whiteout of ".."', entries: [{ name: 'a/.wh...' }], code: 'IMAGE_HOSTILE', re: /whiteout "a\/\.wh\.\.\." names "\.\."/ },
  { title: 'whiteout of "."', entries: [{ name: '.wh..' }], code: 'IMAGE_HOSTILE', re: /names "\."/ },
  { title: 'entry inside a whiteout', entries: [{ name: '.wh.a/b', body: 'x' }], code: 'IMAGE_HOSTILE', re: /inside whiteout/ },
  { title: 'character device', entries: [{ name: 'dev/mem', type: 'char' }], code: 'IMAGE_HOSTILE', re: /character device/ },
  { title: 'block device', entries: [{ name: 'dev/sda', type: 'block' }], code: 'IMAGE_HOSTILE', re: /block device/ },
  { title: 'trusted.overlay xattr', entries: [{ name: 'd', type: 'dir', xattrs: { 'trusted.overlay.opaque': 'y' } }], code: 'IMAGE_HOSTILE', re: /trusted\.overlay\.opaque.*forge overlay/ },
  { title: 'trusted.overlay.redirect on a file', entries: [{ name: 'f', xattrs: { 'trusted.overlay.redirect': '/etc' } }], code: 'IMAGE_HOSTILE', re: /trusted\.overlay\.redirect/ },
  { title: 'user.overlay xattr', entries: [{ name: 'f', xattrs: { 'user.overlay.whiteout': 'y' } }], code: 'IMAGE_HOSTILE', re: /user\.overlay\.whiteout/ },
  { title: 'world-writable setuid file', entries: [{ name: 'sh', body: 'x', mode: 0o4777 }], code: 'IMAGE_HOSTILE', re: /setuid\/setgid and writable/ },
  { title: 'duplicate entry', entries: [{ name: 'f', body: 'a' }, { name: './f', body: 'b' }], code: 'IMAGE_HOSTILE', re: /duplicate entry "f"/ },
  { title: 'root entry that is not a directory', entries: [{ name: './', type: 'symlink', linkname: '/' }], code: 'IMAGE_HOSTILE', re: /root entry/ },
  { title: 'NUL in a name', entries: [{ name: 'a', pax: { path: 'a\0b' } }], code: 'IMAGE_HOSTILE', re: /NUL byte/ },
  { title: 'overlong component', entries: [{ name: `${'c'.repeat(256)}`, body: 'x' }], code: 'IMAGE_HOSTILE', re: /component longer than 255/ },
];

for (const r of REFUSALS) {
  test(`refuses: ${r.title}`, { skip: !asRoot }, async () => {
    await withRoot(async (root, base) => {
      await refuses(unpack(makeLayer(r.entries), root), r.code, r.re);
      // Nothing was written outside the root.
      assert.deepEqual(fs.readdirSync(base), ['rootfs']);
    });
  });
}

test('refuses a trusted.overlay xattr and drops other trusted/security ones', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    await unpack(makeLayer([{ name: 'f', body: 'x', xattrs: { 'trusted.other': 'v', 'security.selinux': 'system_u:object_r:etc_t:s0' } }]), root);
    assert.equal(lgetxattr(path.join(root, 'f'), 'trusted.other'), null);
    assert.equal(lgetxattr(path.join(root, 'f'), 'security.selinux'), null);
  });
});

test('refuses a blob whose digest does not match its descriptor', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const good = makeLayer([{ name: 'f', body: 'x' }]);
    const other = makeLayer([{ name: 'f', body: 'y' }]);
    await refuses(unpack({ ...good, descriptor: { ...good.descriptor, digest: other.descriptor.digest } }, root), 'IMAGE_INVALID', /has digest sha256:[0-9a-f]{64}, expected/);
  });
});

test('refuses a layer whose uncompressed digest is not the diff_id', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const good = makeLayer([{ name: 'f', body: 'x' }]);
    await refuses(unpack({ ...good, diffId: sha256(Buffer.from('other')) }, root), 'IMAGE_INVALID', /uncompressed layer has digest .* diff_id is/);
  });
});

test('refuses a blob longer or shorter than its descriptor says', { skip: !asRoot }, async () => {
  await withRoot(async (root, base) => {
    const good = makeLayer([{ name: 'f', body: 'x' }]);
    await refuses(unpack({ ...good, descriptor: { ...good.descriptor, size: good.blob.length - 1 } }, root), 'IMAGE_INVALID', /larger than the \d+ bytes its descriptor says/);
    const root2 = path.join(base, 'r2');
    fs.mkdirSync(root2);
    await refuses(unpack({ ...good, descriptor: { ...good.descriptor, size: good.blob.length + 1 } }, root2), 'IMAGE_INVALID', /ended after \d+ of \d+ bytes/);
  });
});

test('refuses a truncated gzip stream even when the descriptor matches the cut blob', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const full = makeLayer([{ name: 'f', body: Buffer.alloc(100_000, 7) }, { name: 'g', body: 'y' }]);
    const cut = full.blob.subarray(0, full.blob.length - 10);
    await refuses(unpack(layerFromTar(full.tar, 'gzip', cut), root), 'IMAGE_INVALID', /gzip stream is truncated/);
  });
});

test('refuses a truncated zstd stream', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const full = makeLayer([{ name: 'f', body: Buffer.alloc(100_000, 7) }, { name: 'g', body: 'y' }], 'zstd');
    const cut = full.blob.subarray(0, full.blob.length - 5);
    await refuses(unpack(layerFromTar(full.tar, 'zstd', cut), root), 'IMAGE_INVALID', /zstd stream is truncated/);
  });
});

test('refuses a plain tar cut inside an entry', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const tar = makeTar([{ name: 'f', body: Buffer.alloc(5000, 1) }]);
    const cut = tar.subarray(0, 2048);
    await refuses(unpack(layerFromTar(cut, 'none'), root), 'IMAGE_INVALID', /tar stream is truncated/);
  });
});

test('refuses data that is not a tar', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    await refuses(unpack(layerFromTar(Buffer.alloc(2048, 0x41), 'gzip'), root), 'IMAGE_INVALID', /bad tar header checksum/);
  });
});

test('refuses a decompression bomb past the ratio bound (zstd)', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const bomb = makeLayer([{ name: 'zeros', body: Buffer.alloc(8 * 1024 * 1024) }], 'zstd');
    const limits = { maxEntries: 100, maxTotalBytes: 1 << 30, maxPathBytes: 4096, maxUncompressedBytes: 1 << 30, maxRatio: 100, ratioFloorBytes: 1024 * 1024 };
    await refuses(unpack(bomb, root, { limits }), 'IMAGE_HOSTILE', /expands to more than \d+ bytes/);
  });
});

test('refuses more entries or content than the limits allow', { skip: !asRoot }, async () => {
  await withRoot(async (root, base) => {
    const limits = { maxEntries: 2, maxTotalBytes: 10, maxPathBytes: 4096, maxUncompressedBytes: 1 << 30, maxRatio: 2000, ratioFloorBytes: 1 << 20 };
    await refuses(unpack(makeLayer([{ name: 'a' }, { name: 'b' }, { name: 'c' }]), root, { limits }), 'IMAGE_HOSTILE', /more than 2 entries/);
    const root2 = path.join(base, 'r2');
    fs.mkdirSync(root2);
    await refuses(unpack(makeLayer([{ name: 'a', body: 'x'.repeat(11) }]), root2, { limits }), 'IMAGE_HOSTILE', /contents exceed 10 bytes/);
  });
});

test('a failing source rejects with its error and stops', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const layer = makeLayer([{ name: 'f', body: 'x' }]);
    const src = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    await assert.rejects(unpack(layer, root, { source: src }), (err: unknown) => err instanceof RktError && err.code === 'FETCH' && /connection reset/.test(err.message));
  });
});

test('an empty layer (gzip of nothing but the end marker) unpacks to an empty root', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const r = await unpack(layerFromTar(Buffer.alloc(1024), 'gzip'), root);
    assert.equal(r.entries, 0);
    assert.deepEqual(fs.readdirSync(root), []);
    assert.equal(fs.statSync(root).mode & 0o777, 0o755);
  });
});

test('an uncompressed layer whose digest is not the diff_id is refused', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    const good = makeLayer([{ name: 'f', body: 'x' }], 'none');
    await refuses(unpack({ ...good, diffId: sha256(Buffer.from('other')) }, root), 'IMAGE_INVALID', /diff_id is/);
  });
});

test('refuses a zstd frame that asks for a window over 128 MiB', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    // Frame header: magic, descriptor 0x00 (no single segment), window descriptor 2^(10+18) = 256 MiB.
    const blob = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3]), Buffer.alloc(64)]);
    await refuses(unpack(layerFromTar(Buffer.alloc(1024), 'zstd', blob), root), 'IMAGE_INVALID', /asks for a 268435456-byte window/);
  });
});

test('explicit directory metadata wins over an implicit parent, and real entries over same-layer whiteouts', { skip: !asRoot }, async () => {
  await withRoot(async (root) => {
    await unpack(makeLayer([
      { name: 'usr/lib/x', body: 'x' },
      { name: 'usr/', type: 'dir', mode: 0o700, uid: 9, gid: 9, mtime: 1_500_000 },
      { name: 'a/f', body: 'f' },
      { name: 'a/.wh.f' },
      { name: 'a/.wh.g' },
      { name: 'a/g', type: 'symlink', linkname: 'f' },
    ]), root);
    const usr = fs.statSync(path.join(root, 'usr'));
    assert.deepEqual([usr.mode & 0o7777, usr.uid, usr.gid, usr.mtimeMs], [0o700, 9, 9, 1_500_000_000]);
    assert.equal(fs.readFileSync(path.join(root, 'a/f'), 'utf8'), 'f');
    assert.ok(fs.lstatSync(path.join(root, 'a/g')).isSymbolicLink());
  });
});

test('refuses corrupt gzip and zstd data, and removes the partial blob copy', { skip: !asRoot }, async () => {
  await withRoot(async (root, base) => {
    for (const kind of ['gzip', 'zstd'] as const) {
      const good = makeLayer([{ name: 'f', body: Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251)) }], kind);
      const bad = Buffer.from(good.blob);
      for (let i = 30; i < 60; i++) bad[i] = (bad[i] as number) ^ 0x5a;
      const r = path.join(base, `r-${kind}`);
      fs.mkdirSync(r);
      const blobOut = path.join(base, `blob-${kind}`);
      await refuses(unpack(layerFromTar(good.tar, kind, bad), r, { blobOut }), 'IMAGE_INVALID', new RegExp(`${kind} data is corrupt|bad tar header|diff_id`));
      assert.ok(!fs.existsSync(blobOut));
    }
    void root;
  });
});
