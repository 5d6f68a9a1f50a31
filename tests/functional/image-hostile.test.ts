// Functional: hostile and malformed ACIs are refused with a clear message and leave no trace in the store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { aciManifest, makeTarBuffer, runRkt, tempRktDirs, type RktDirs, type TarEntry } from '../harness/aci.js';

type Entry = TarEntry;
const makeTar = makeTarBuffer;

const GOOD_MANIFEST = JSON.stringify(aciManifest({ name: 'example.com/hostile', exec: ['/bin/true'] }));
const manifest = (body: string = GOOD_MANIFEST): Entry => ({ header: { name: 'manifest', type: 'file', mode: 0o644 }, body });
const rootfs: Entry = { header: { name: 'rootfs', type: 'directory', mode: 0o755 } };
const file = (name: string, body = 'x', mode = 0o644): Entry => ({ header: { name, type: 'file', mode }, body });

/** A tar whose one file header claims `size` bytes (base-256 encoded), with no data behind it. */
async function claimsHugeFile(size: bigint): Promise<Buffer> {
  const head = await makeTar([manifest(), rootfs, file('rootfs/huge', '')]);
  // Find the header of rootfs/huge (the third 512-byte header after manifest data) by name.
  let off = 0;
  while (off < head.length && head.subarray(off, off + 11).toString('latin1') !== 'rootfs/huge') off += 512;
  const h = head.subarray(off, off + 512);
  h.fill(0, 124, 136);
  h[124] = 0x80;
  let v = size;
  for (let i = 135; i > 124; i--) {
    h[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return head;
}

let dirs: RktDirs;
let outside: string;
let existingId: string;
before(async () => {
  dirs = await tempRktDirs();
  outside = path.join(dirs.root, 'scratch', 'outside');
  await mkdir(outside);
  // One good image, so "unchanged" is checked against a non-empty store.
  const good = path.join(dirs.root, 'scratch', 'good.aci');
  await writeFile(good, await makeTar([manifest(), rootfs, file('rootfs/ok')]));
  const r = await runRkt(['image', 'import', good], { dirs });
  assert.equal(r.exitCode, 0, r.stderr);
  existingId = r.stdout.trim();
});
after(async () => {
  await dirs.cleanup();
});

const cases: { name: string; message: RegExp; tar: () => Promise<Buffer> }[] = [
  { name: '../ escape', message: /"\.\." path component/, tar: () => makeTar([manifest(), rootfs, file('rootfs/../../escaped')]) },
  { name: 'absolute path', message: /absolute path/, tar: () => makeTar([manifest(), rootfs, file('/tmp/absolute-escape')]) },
  {
    name: 'symlink then write through it',
    message: /written through symlink "rootfs\/link"/,
    tar: () => makeTar([manifest(), rootfs, { header: { name: 'rootfs/link', type: 'symlink', linkname: outside } }, file('rootfs/link/pwned')]),
  },
  {
    name: 'symlink to a relative parent then write',
    message: /written through symlink/,
    tar: () => makeTar([manifest(), rootfs, { header: { name: 'rootfs/up', type: 'symlink', linkname: '../..' } }, file('rootfs/up/x')]),
  },
  {
    name: 'hardlink to outside',
    message: /hardlink "rootfs\/hl" points outside rootfs/,
    tar: () => makeTar([manifest(), rootfs, { header: { name: 'rootfs/hl', type: 'link', linkname: 'manifest' } }]),
  },
  {
    name: 'hardlink with .. target',
    message: /"\.\." path component/,
    tar: () => makeTar([manifest(), rootfs, { header: { name: 'rootfs/hl', type: 'link', linkname: 'rootfs/../../etc/passwd' } }]),
  },
  {
    name: 'hardlink to a missing file',
    message: /not an earlier regular file/,
    tar: () => makeTar([manifest(), rootfs, { header: { name: 'rootfs/hl', type: 'link', linkname: 'rootfs/missing' } }]),
  },
  {
    name: 'character device node',
    message: /character device/,
    tar: () => makeTar([manifest(), rootfs, { header: { name: 'rootfs/dev/mem', type: 'character-device', devmajor: 1, devminor: 1, mode: 0o666 } }]),
  },
  {
    name: 'block device node',
    message: /block device/,
    tar: () => makeTar([manifest(), rootfs, { header: { name: 'rootfs/dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 } }]),
  },
  { name: 'world-writable setuid file', message: /setuid\/setgid and writable/, tar: () => makeTar([manifest(), rootfs, file('rootfs/bin/su', 'x', 0o4777)]) },
  { name: 'oversized manifest', message: /manifest is \d+ bytes, more than/, tar: () => makeTar([manifest(' '.repeat(2 * 1024 * 1024) + GOOD_MANIFEST), rootfs]) },
  { name: 'file claiming 20 TiB', message: /exceed .* bytes/, tar: () => claimsHugeFile(20n * 1024n ** 4n) },
  { name: 'missing manifest', message: /no "manifest" entry/, tar: () => makeTar([rootfs, file('rootfs/a')]) },
  { name: 'missing rootfs', message: /no "rootfs" directory/, tar: () => makeTar([manifest()]) },
  { name: 'invalid manifest', message: /invalid image manifest/, tar: () => makeTar([manifest(JSON.stringify({ acKind: 'PodManifest', acVersion: '0.8.11' })), rootfs]) },
  { name: 'invalid JSON manifest', message: /not valid JSON/, tar: () => makeTar([manifest('{"acKind": "ImageManifest",'), rootfs]) },
  { name: 'extra top-level entry', message: /unexpected top-level entry "etc"/, tar: () => makeTar([manifest(), rootfs, file('etc')]) },
  { name: 'duplicate entry', message: /duplicate entry "rootfs\/a"/, tar: () => makeTar([manifest(), rootfs, file('rootfs/a'), file('rootfs/a')]) },
  { name: 'not an archive', message: /unknown file type/, tar: async () => Buffer.from('this is not a tar file at all') },
];

for (const c of cases) {
  test(`refuses: ${c.name}`, async () => {
    const aci = path.join(dirs.root, 'scratch', `${c.name.replace(/\W+/g, '-')}.aci`);
    await writeFile(aci, await c.tar());
    const r = await runRkt(['image', 'import', aci], { dirs });
    assert.equal(r.exitCode, 254, `stdout: ${r.stdout} stderr: ${r.stderr}`);
    assert.match(r.stderr, c.message);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line of error');
    assert.equal(r.stdout, '');
    const list = await runRkt(['image', 'list', '--format=json'], { dirs });
    assert.deepEqual((JSON.parse(list.stdout) as { id: string }[]).map((e) => e.id), [existingId]);
    const cas = path.join(dirs.dir, 'cas');
    assert.deepEqual(await readdir(path.join(cas, 'tmp')), []);
    assert.deepEqual(await readdir(path.join(cas, 'images')), [existingId]);
    assert.deepEqual(await readdir(path.join(cas, 'trees')), []);
    await assert.rejects(stat(path.join(outside, 'pwned')));
    await assert.rejects(stat('/tmp/absolute-escape'));
  });
}
