import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lgetxattr } from '../../../common/native.js';
import { flattenLayers } from './flatten.js';
import { escapeOverlayPath, lowerdirOption, maxLowerDirsPerMount, MOUNT_OPTIONS_MAX, OVERLAY_MAX_LOWER } from '../../../common/overlay-options.js';
import { unpackLayer } from './unpack.js';
import { OPAQUE_XATTR } from './writer.js';
import { chunked, makeLayer, tempDir, type TestEntry } from './testutil.js';

const asRoot = process.getuid?.() === 0;

async function layerTree(base: string, name: string, entries: TestEntry[]): Promise<string> {
  const root = path.join(base, name);
  fs.mkdirSync(root);
  const layer = makeLayer(entries);
  await unpackLayer({ source: chunked(layer.blob), descriptor: layer.descriptor, diffId: layer.diffId, rootfs: root, what: name });
  return root;
}

/** Every path under `root` with its type, mode, owner and (for files) content: a comparable view. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : st.isCharacterDevice() ? 'c' : '?';
    const extra = st.isFile() ? fs.readFileSync(p, 'utf8') : st.isSymbolicLink() ? fs.readlinkSync(p) : '';
    out.push(`${rel || '.'} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${extra}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(rel ? `${rel}/${e}` : e);
  };
  walk('');
  return out;
}

const LOWER: TestEntry[] = [
  { name: './', type: 'dir', mode: 0o755 },
  { name: 'etc/motd', body: 'hello' },
  { name: 'etc/keep', body: 'kept' },
  { name: 'var/cache/old', body: 'old' },
  { name: 'var/cache/sub/x', body: 'x' },
  { name: 'tmp/t', body: 't' },
  { name: 'opt/app/bin', body: 'v1' },
];
const UPPER: TestEntry[] = [
  { name: './', type: 'dir', mode: 0o711, uid: 0, gid: 0 },
  { name: 'etc/.wh.motd' },
  { name: 'etc/added', body: 'new' },
  { name: 'var/cache/.wh..wh..opq' },
  { name: 'var/cache/new', body: 'n' },
  { name: '.wh.tmp' },
  { name: '.wh.opt' },
  { name: 'opt/app2', body: 'v2' },
];
const MERGED = [
  '. d 711 0:0 ',
  'etc d 755 0:0 ',
  'etc/added f 644 0:0 new',
  'etc/keep f 644 0:0 kept',
  'opt d 755 0:0 ',
  'opt/app2 f 644 0:0 v2',
  'var d 755 0:0 ',
  'var/cache d 755 0:0 ',
  'var/cache/new f 644 0:0 n',
];

test('unpacked layers work as overlay lower layers: whiteouts hide, opaque directories hide below', { skip: !asRoot }, async () => {
  const t = tempDir('rkt-flatten-');
  try {
    const lower = await layerTree(t.dir, 'l1', LOWER);
    const upper = await layerTree(t.dir, 'l2', UPPER);
    const mnt = path.join(t.dir, 'mnt');
    fs.mkdirSync(mnt);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', lowerdirOption([upper, lower]), mnt]);
    try {
      assert.deepEqual(listing(mnt), MERGED);
    } finally {
      execFileSync('umount', [mnt]);
    }
  } finally {
    t.cleanup();
  }
});

test('flattenLayers gives the overlay view as a plain tree', { skip: !asRoot }, async () => {
  const t = tempDir('rkt-flatten-');
  try {
    const lower = await layerTree(t.dir, 'l1', LOWER);
    const upper = await layerTree(t.dir, 'l2', UPPER);
    const dest = path.join(t.dir, 'flat');
    await flattenLayers([upper, lower], dest);
    assert.deepEqual(listing(dest), MERGED);
    assert.equal(lgetxattr(path.join(dest, 'var/cache'), OPAQUE_XATTR), null);
    // The scratch directories are gone and nothing stays mounted.
    assert.deepEqual(fs.readdirSync(t.dir).sort(), ['flat', 'l1', 'l2']);
    assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(t.dir));

    // One layer alone: its whiteouts and opaque markers are dropped.
    const single = path.join(t.dir, 'single');
    await flattenLayers([upper], single);
    assert.deepEqual(listing(single), [
      '. d 711 0:0 ',
      'etc d 755 0:0 ',
      'etc/added f 644 0:0 new',
      'opt d 755 0:0 ',
      'opt/app2 f 644 0:0 v2',
      'var d 755 0:0 ',
      'var/cache d 755 0:0 ',
      'var/cache/new f 644 0:0 n',
    ]);
    assert.equal(lgetxattr(path.join(single, 'var/cache'), OPAQUE_XATTR), null);

    await assert.rejects(flattenLayers([upper], single), /not empty/);
  } finally {
    t.cleanup();
  }
});

test('a stack too long for one mount is flattened bottom-up in chunks with the same result', { skip: !asRoot }, async () => {
  const t = tempDir('rkt-flatten-');
  try {
    const layers: string[] = [];
    for (let i = 0; i < 7; i++) {
      const entries: TestEntry[] = [
        { name: `f${i}`, body: `layer ${i}` },
        { name: 'shared', body: `top is ${i}` },
        { name: `d/${i}`, body: String(i) },
      ];
      if (i > 0) entries.push({ name: `.wh.f${i - 1}` });
      if (i === 4) entries.push({ name: 'd/.wh..wh..opq' });
      layers.unshift(await layerTree(t.dir, `layer-${i}`, entries));
    }
    const whole = path.join(t.dir, 'whole');
    await flattenLayers(layers, whole);
    // Room for about three of these paths per mount.
    const small = Buffer.byteLength(lowerdirOption(layers.slice(0, 3))) + 2;
    assert.ok(maxLowerDirsPerMount(layers, 0, small) < layers.length);
    const chunkedDest = path.join(t.dir, 'chunked');
    await flattenLayers(layers, chunkedDest, { optionsMax: small });
    assert.deepEqual(listing(chunkedDest), listing(whole));
    assert.deepEqual(listing(whole).filter((l) => !l.startsWith('.')), [
      'd d 755 0:0 ',
      'd/4 f 644 0:0 4',
      'd/5 f 644 0:0 5',
      'd/6 f 644 0:0 6',
      'f6 f 644 0:0 layer 6',
      'shared f 644 0:0 top is 6',
    ]);
  } finally {
    t.cleanup();
  }
});

test('maxLowerDirsPerMount counts escaped bytes against one page and stops at 500 layers', () => {
  assert.equal(escapeOverlayPath('/a:b,c\\d'), '/a\\:b\\,c\\\\d');
  assert.equal(lowerdirOption(['/x', '/y:z']), 'lowerdir=/x:/y\\:z');
  const p = `/var/lib/rkt/cas/layers/sha256-${'a'.repeat(64)}/rootfs`; // 106 bytes
  const n = maxLowerDirsPerMount(Array(100).fill(p));
  assert.equal(n, Math.floor((MOUNT_OPTIONS_MAX - 'lowerdir='.length + 1) / (p.length + 1)));
  assert.ok(Buffer.byteLength(lowerdirOption(Array(n).fill(p))) <= MOUNT_OPTIONS_MAX);
  assert.ok(Buffer.byteLength(lowerdirOption(Array(n + 1).fill(p))) > MOUNT_OPTIONS_MAX);
  assert.equal(maxLowerDirsPerMount(Array(100).fill(p), 1000), Math.floor((MOUNT_OPTIONS_MAX - 1000 - 'lowerdir='.length + 1) / (p.length + 1)));
  const colons = `/${':'.repeat(50)}`; // 51 bytes, 101 escaped
  assert.equal(maxLowerDirsPerMount(Array(100).fill(colons)), Math.floor((MOUNT_OPTIONS_MAX - 'lowerdir='.length + 1) / 102));
  assert.equal(maxLowerDirsPerMount(Array(600).fill('/l')), OVERLAY_MAX_LOWER);
  assert.equal(maxLowerDirsPerMount([]), 0);
});
