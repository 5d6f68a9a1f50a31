import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { RktError } from '../../../common/errors.js';
import { buildImage, hexOf, ociArchiveBytes, packTar, writeLayout, writeOciArchive, type BuiltImage, type TarMember } from '../../../tests/harness/oci-image.js';
import { parseManifestOrIndex, type ImageManifestDoc } from '../documents.js';
import { openLocalSource } from './index.js';
import { TarIndex } from './tar-index.js';

let root: string;
let a: BuiltImage;
let b: BuiltImage;
let n = 0;

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RktError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, re);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

async function tmp(): Promise<string> {
  return mkdtemp(path.join(root, 'fetch-'));
}

async function open(file: string, name?: string, tmpDir?: string) {
  return openLocalSource(name === undefined ? { transport: 'oci-archive', path: file } : { transport: 'oci-archive', path: file, name }, { tmpDir: tmpDir ?? (await tmp()) });
}

async function archive(bytes: Buffer): Promise<string> {
  const f = path.join(root, `a${n++}.tar`);
  await writeFile(f, bytes);
  return f;
}

async function checkImage(file: string, name: string | undefined, img: BuiltImage): Promise<void> {
  const src = await open(file, name);
  const top = await src.top();
  assert.equal(top.expectedDigest, img.manifestDigest);
  assert.deepEqual(top.bytes, img.manifestBytes);
  const m = parseManifestOrIndex(top.bytes, top.mediaType, 't') as ImageManifestDoc;
  assert.deepEqual(await buffer(await src.blob(m.config)), img.configBytes);
  for (const [i, l] of m.layers.entries()) assert.deepEqual(await buffer(await src.blob(l)), img.layers[i]?.bytes);
  await src.close();
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'oci-archive-src-'));
  a = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'a', content: 'A'.repeat(1000) }] }] });
  b = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'b', content: 'B' }], compression: 'none' }, { entries: [] }] });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('names select images; members are read by offset, with and without "./" prefixes', async () => {
  const entries = [{ name: 'a', image: a }, { name: 'b', image: b }];
  const plain = await archive(await ociArchiveBytes(entries));
  await checkImage(plain, 'a', a);
  await checkImage(plain, 'b', b);
  const dotted = await archive(await ociArchiveBytes(entries, { dotSlash: true }));
  await checkImage(dotted, 'b', b);
  await rejectsWith(open(plain), 'IMAGE_AMBIGUOUS', /holds 2 images \(a, b\)/);
  await rejectsWith(open(plain, 'zz'), 'IMAGE_NOT_FOUND', /no image named "zz"/);
});

test('nothing is extracted from a plain archive; a gzipped one is decompressed into tmpDir only', async () => {
  const bytes = await ociArchiveBytes([{ name: 'a', image: a }]);
  const t1 = await tmp();
  const s1 = await open(await archive(bytes), 'a', t1);
  await s1.top();
  assert.deepEqual(await readdir(t1), []);
  await s1.close();
  const t2 = await tmp();
  const gz = await archive(gzipSync(bytes));
  const s2 = await open(gz, 'a', t2);
  assert.equal((await s2.top()).expectedDigest, a.manifestDigest);
  assert.deepEqual(await readdir(t2), ['archive.tar']);
  await s2.close();
});

test('hostile member names are refused: "../", absolute, duplicates, devices', async () => {
  const base = [{ name: 'a', image: a }];
  const extra = (m: TarMember) => ociArchiveBytes(base, { extraMembers: [m] });
  await rejectsWith(open(await archive(await extra({ header: { name: '../evil', type: 'file' }, body: 'x' }))), 'IMAGE_HOSTILE', /"\.\.\/evil"/);
  await rejectsWith(open(await archive(await extra({ header: { name: '/etc/evil', type: 'file' }, body: 'x' }))), 'IMAGE_HOSTILE', /absolute/);
  await rejectsWith(open(await archive(await extra({ header: { name: 'blobs/a/../../x', type: 'file' }, body: 'x' }))), 'IMAGE_HOSTILE', /\.\./);
  await rejectsWith(open(await archive(await extra({ header: { name: 'index.json', type: 'file' }, body: '{}' }))), 'IMAGE_HOSTILE', /appears twice/);
  await rejectsWith(open(await archive(await extra({ header: { name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 } }))), 'IMAGE_HOSTILE', /type "3"/);
  await rejectsWith(open(await archive(await extra({ header: { name: 'hl', type: 'link', linkname: '../../etc/passwd' } }))), 'IMAGE_HOSTILE', /hard link/);
});

test('symlinks inside the archive are followed only while they stay inside it', async () => {
  const hex = hexOf(a.configDigest);
  const files = await ociArchiveBytes([{ name: 'a', image: a }]);
  // Rebuild the archive with the config blob replaced by a link, first inside, then outside.
  const rebuilt = async (link: string, withTarget: boolean): Promise<string> => {
    const idx = await TarIndex.open(await archive(files), { tmpDir: await tmp() });
    const members: TarMember[] = [];
    for (const name of idx.names()) {
      const m = idx.member(name);
      if (!m || m.kind !== 'file') continue;
      if (name === `blobs/sha256/${hex}`) {
        members.push({ header: { name, type: 'symlink', linkname: link } });
        if (withTarget) members.push({ header: { name: 'blobs/real-config', type: 'file' }, body: a.configBytes });
      } else members.push({ header: { name, type: 'file' }, body: await idx.read(m, 1 << 20, name) });
    }
    await idx.close();
    return archive(await packTar(members));
  };
  const inside = await open(await rebuilt('../real-config', true), 'a');
  const m = parseManifestOrIndex((await inside.top()).bytes, undefined, 't') as ImageManifestDoc;
  assert.deepEqual(await buffer(await inside.blob(m.config)), a.configBytes);
  const outside = await open(await rebuilt('../../../etc/passwd', false), 'a');
  await rejectsWith(outside.blob(m.config), 'IMAGE_HOSTILE', /points outside the archive/);
  const abs = await open(await rebuilt('/etc/passwd', false), 'a');
  await rejectsWith(abs.blob(m.config), 'IMAGE_HOSTILE', /points outside the archive/);
});

test('missing, truncated, corrupt and non-layout archives', async () => {
  await rejectsWith(open(path.join(root, 'absent.tar')), 'IMAGE_NOT_FOUND', /absent\.tar/);
  const bytes = await ociArchiveBytes([{ name: 'a', image: a }]);
  await rejectsWith(open(await archive(bytes.subarray(0, 1500))), 'IMAGE_INVALID', /truncated/);
  const bad = Buffer.from(bytes);
  bad[10] = 0x41;
  await rejectsWith(open(await archive(bad)), 'IMAGE_INVALID', /checksum/);
  await rejectsWith(open(await archive(await packTar([{ header: { name: 'hello', type: 'file' }, body: 'x' }]))), 'IMAGE_INVALID', /no oci-layout/);
});

test('long member names (PAX and GNU forms) are indexed', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(120)}`;
  const PAX_NAME = `${'p'.repeat(200)}/${'q'.repeat(200)}`;
  const f = await archive(await packTar([{ header: { name: long, type: 'file' }, body: 'long' }, { header: { name: 'x', type: 'file', pax: { path: PAX_NAME } }, body: 'pax' }]));
  const idx = await TarIndex.open(f, { tmpDir: await tmp() });
  const m1 = idx.resolve(long);
  const m2 = idx.resolve(PAX_NAME);
  assert.ok(m1 && m2, idx.names().join(','));
  assert.equal((await idx.read(m1, 100, 't')).toString(), 'long');
  assert.equal((await idx.read(m2, 100, 't')).toString(), 'pax');
  await idx.close();
  // GNU tar writes ././@LongLink records for names over 100 bytes.
  const gnu = path.join(root, 'gnu.tar');
  const dir = await mkdtemp(path.join(root, 'gnu-'));
  await writeFile(path.join(dir, 'n'.repeat(150)), 'gnu');
  await execa('tar', ['--format=gnu', '-cf', gnu, '-C', dir, '.']);
  const g = await TarIndex.open(gnu, { tmpDir: await tmp() });
  const m3 = g.resolve('n'.repeat(150));
  assert.ok(m3, g.names().join(','));
  assert.equal((await g.read(m3, 100, 't')).toString(), 'gnu');
  await g.close();
});

test('an oci-archive written by skopeo is read', async (t) => {
  if ((await execa('skopeo', ['--version'], { reject: false })).exitCode !== 0) return t.skip('skopeo is not installed');
  const dir = path.join(root, 'layout-for-skopeo');
  await writeLayout(dir, [{ name: 'b', image: b }]);
  const out = path.join(root, 'by-skopeo.tar');
  const r = await execa('skopeo', ['copy', '-q', `oci:${dir}:b`, `oci-archive:${out}:copied`], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  const src = await open(out, 'copied');
  const top = await src.top();
  const m = parseManifestOrIndex(top.bytes, top.mediaType, 't') as ImageManifestDoc;
  assert.deepEqual(await buffer(await src.blob(m.config)), b.configBytes);
  assert.equal(m.layers.length, 2);
  await src.close();
  // And the builder's own archive is what skopeo reads back.
  const mine = path.join(root, 'mine.tar');
  await writeOciArchive(mine, [{ name: 'x', image: b }]);
  assert.ok((await readFile(mine)).length > 0);
});
