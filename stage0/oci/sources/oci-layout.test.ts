import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtemp, rm, symlink, unlink, writeFile, rename, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { RktError } from '../../../common/errors.js';
import { buildImage, buildMultiArch, hexOf, writeLayout, type BuiltImage, type BuiltIndex } from '../../../tests/harness/oci-image.js';
import { parseDigest } from '../digest.js';
import { MAX_DOCUMENT_BYTES, parseManifestOrIndex, type Descriptor, type ImageManifestDoc } from '../documents.js';
import { openLocalSource } from './index.js';

let root: string;
let a: BuiltImage;
let b: BuiltImage;
let multi: BuiltIndex;

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RktError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, re);
    assert.ok(!err.message.includes('\n'), 'one line');
    assert.ok(err.hint, 'has a hint');
    return true;
  });
}

const open = (dir: string, name?: string) =>
  openLocalSource(name === undefined ? { transport: 'oci', path: dir } : { transport: 'oci', path: dir, name }, { tmpDir: root });

async function layout(n: string, entries: Parameters<typeof writeLayout>[1]): Promise<string> {
  const dir = path.join(root, n);
  await writeLayout(dir, entries);
  return dir;
}

function manifestOf(bytes: Buffer): ImageManifestDoc {
  const doc = parseManifestOrIndex(bytes, undefined, 'test');
  assert.equal(doc.kind, 'manifest');
  return doc as ImageManifestDoc;
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'oci-layout-src-'));
  a = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'a', content: 'A' }] }], config: { cmd: ['/a'] } });
  b = await buildImage({
    layers: [
      { entries: [{ type: 'file', path: 'b', content: 'B' }], compression: 'zstd' },
      { entries: [{ type: 'file', path: 'c', content: 'C' }], compression: 'none' },
    ],
    config: { cmd: ['/b'] },
  });
  multi = await buildMultiArch({ layers: [{ entries: [{ type: 'file', path: 'm', content: 'M' }] }] });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('a name selects its index.json entry; top, manifest and blob return its bytes', async () => {
  const dir = await layout('two', [{ name: 'a', image: a }, { name: 'b', image: b }]);
  const src = await open(dir, 'b');
  assert.equal(src.description, `oci:${dir}:b`);
  const top = await src.top();
  assert.deepEqual(top.bytes, b.manifestBytes);
  assert.equal(top.expectedDigest, b.manifestDigest);
  assert.equal(top.expectedSize, b.manifestBytes.length);
  assert.equal(top.mediaType, b.manifestMediaType);
  const m = manifestOf(top.bytes);
  assert.deepEqual(await buffer(await src.blob(m.config)), b.configBytes);
  for (const [i, l] of m.layers.entries()) assert.deepEqual(await buffer(await src.blob(l)), b.layers[i]?.bytes);
  await src.close();
});

test('without a name, the only image is taken; with two it is a one-line error listing the names', async () => {
  const one = await layout('one', [{ name: 'only', image: a }]);
  assert.equal((await (await open(one)).top()).expectedDigest, a.manifestDigest);
  const unnamed = await layout('unnamed', [{ image: a }]);
  assert.equal((await (await open(unnamed)).top()).expectedDigest, a.manifestDigest);
  const two = await layout('two-noname', [{ name: 'a', image: a }, { name: 'b', image: b }]);
  await rejectsWith(open(two), 'IMAGE_AMBIGUOUS', /holds 2 images \(a, b\)/);
});

test('a missing name is IMAGE_NOT_FOUND and lists what the layout holds', async () => {
  const dir = await layout('missing-name', [{ name: 'a', image: a }, { name: 'b', image: b }]);
  await rejectsWith(open(dir, 'c'), 'IMAGE_NOT_FOUND', /no image named "c" \(it holds: a, b\)/);
});

test('a multi-arch entry is returned as the index it is; its manifests are readable', async () => {
  const dir = await layout('multi', [{ name: 'm', image: multi }]);
  const src = await open(dir, 'm');
  const top = await src.top();
  assert.deepEqual(top.bytes, multi.indexBytes);
  assert.equal(top.expectedDigest, multi.indexDigest);
  const idx = parseManifestOrIndex(top.bytes, top.mediaType, 'index');
  assert.equal(idx.kind, 'index');
  if (idx.kind !== 'index') return;
  assert.deepEqual(idx.manifests.map((d) => d.platform?.architecture), ['arm64', 'amd64', 'unknown']);
  const amd = idx.manifests[1] as Descriptor;
  assert.deepEqual(await src.manifest(amd), multi.images[1]?.manifestBytes);
});

test('layout-level problems: missing dir, not a dir, no oci-layout, wrong version, missing blob', async () => {
  await rejectsWith(open(path.join(root, 'nope')), 'IMAGE_NOT_FOUND', /nope/);
  const f = path.join(root, 'plain-file');
  await writeFile(f, 'x');
  await rejectsWith(open(f), 'IMAGE_INVALID', /not a directory/);
  const noMarker = await layout('no-marker', [{ name: 'a', image: a }]);
  await unlink(path.join(noMarker, 'oci-layout'));
  await rejectsWith(open(noMarker), 'IMAGE_INVALID', /no oci-layout file/);
  const v2 = await layout('v2', [{ name: 'a', image: a }]);
  await writeFile(path.join(v2, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  await rejectsWith(open(v2), 'IMAGE_INVALID', /imageLayoutVersion "2.0.0"/);
  const gone = await layout('gone', [{ name: 'a', image: a }]);
  await unlink(path.join(gone, 'blobs/sha256', hexOf(a.configDigest)));
  const src = await open(gone);
  const m = manifestOf((await src.top()).bytes);
  await rejectsWith(src.blob(m.config), 'IMAGE_NOT_FOUND', /missing/);
});

test('digests that try to be paths are refused, in index.json and in a forged descriptor', async () => {
  const dir = await layout('trav', [{ name: 'a', image: a }]);
  const idx = path.join(dir, 'index.json');
  await writeFile(idx, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256/../../etc/passwd', size: 10 }] }));
  await rejectsWith(open(dir), 'IMAGE_HOSTILE', /etc\/passwd/);
  await writeFile(idx, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:../../../../etc/passwd', size: 10 }] }));
  await rejectsWith(open(dir), 'IMAGE_HOSTILE', /outside blobs/);
  const ok = await layout('trav-ok', [{ name: 'a', image: a }]);
  const src = await open(ok);
  const forged: Descriptor = {
    mediaType: 'application/octet-stream',
    digest: { algorithm: 'sha256', hex: '../../../../etc/passwd', text: 'sha256:../../../../etc/passwd' },
    size: 1,
    annotations: {},
  };
  await rejectsWith(src.blob(forged), 'IMAGE_HOSTILE', /not algorithm:hex/);
  const mismatched: Descriptor = { ...forged, digest: { ...parseDigest(a.configDigest, 't'), hex: '../x' } };
  await rejectsWith(src.blob(mismatched), 'IMAGE_HOSTILE', /does not match/);
});

test('symlinks are refused: a symlinked blob, a symlinked blobs/ dir, a symlinked index.json', async () => {
  const dir = await layout('links', [{ name: 'a', image: a }]);
  const src = await open(dir);
  const m = manifestOf((await src.top()).bytes);
  const cfg = path.join(dir, 'blobs/sha256', hexOf(a.configDigest));
  await unlink(cfg);
  await symlink('/etc/passwd', cfg);
  await rejectsWith(src.blob(m.config), 'IMAGE_HOSTILE', /symlink/);
  // Even a link to a file inside the layout is refused: a layout has no reason to hold links.
  await unlink(cfg);
  await symlink(hexOf(a.manifestDigest), cfg);
  await rejectsWith(src.blob(m.config), 'IMAGE_HOSTILE', /symlink/);

  const dir2 = await layout('links2', [{ name: 'a', image: a }]);
  const elsewhere = path.join(root, 'elsewhere');
  await mkdir(elsewhere);
  await rename(path.join(dir2, 'blobs/sha256'), path.join(elsewhere, 'sha256'));
  await symlink(path.join(elsewhere, 'sha256'), path.join(dir2, 'blobs/sha256'));
  await rejectsWith((await open(dir2)).top(), 'IMAGE_HOSTILE', /blobs\/sha256 is a symlink/);

  const dir3 = await layout('links3', [{ name: 'a', image: a }]);
  await rename(path.join(dir3, 'index.json'), path.join(root, 'index-elsewhere.json'));
  await symlink(path.join(root, 'index-elsewhere.json'), path.join(dir3, 'index.json'));
  await rejectsWith(open(dir3), 'IMAGE_HOSTILE', /index.json is a symlink/);
});

test('documents are bounded by MAX_DOCUMENT_BYTES, by descriptor and by file size', async () => {
  const dir = await layout('big', [{ name: 'a', image: a }]);
  const src = await open(dir);
  const d = parseManifestOrIndex((await src.top()).bytes, undefined, 't');
  assert.equal(d.kind, 'manifest');
  const big: Descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: parseDigest(a.configDigest, 't'), size: MAX_DOCUMENT_BYTES + 1, annotations: {} };
  await rejectsWith(src.manifest(big), 'IMAGE_INVALID', /more than/);
  await writeFile(path.join(dir, 'blobs/sha256', hexOf(a.configDigest)), Buffer.alloc(MAX_DOCUMENT_BYTES + 1));
  await rejectsWith(src.manifest({ ...big, size: 10 }), 'IMAGE_INVALID', /more than/);
});

test('a layout written by skopeo is read, and its digests agree with skopeo inspect', async (t) => {
  if ((await execa('skopeo', ['--version'], { reject: false })).exitCode !== 0) return t.skip('skopeo is not installed');
  const src = await layout('for-skopeo', [{ name: 'a', image: a }]);
  const dst = path.join(root, 'by-skopeo');
  const r = await execa('skopeo', ['copy', '-q', `oci:${src}:a`, `oci:${dst}:copied`], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  const s = await open(dst, 'copied');
  const top = await s.top();
  const inspected = JSON.parse((await execa('skopeo', ['inspect', `oci:${dst}:copied`])).stdout) as { Digest: string };
  assert.equal(top.expectedDigest, inspected.Digest);
  const m = manifestOf(top.bytes);
  assert.deepEqual(await buffer(await s.blob(m.config)), a.configBytes);
});
