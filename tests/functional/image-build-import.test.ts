// Functional: image build -> import -> list/export/extract/render/cat-manifest/verify/rm/gc, via the real CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat, writeFile, lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { buildAci, makeAciDir, runRkt, tempRktDirs, type RktDirs } from '../harness/aci.js';

let dirs: RktDirs;
before(async () => {
  dirs = await tempRktDirs();
});
after(async () => {
  await dirs.cleanup();
});

const scratch = (n: string): string => path.join(dirs.root, 'scratch', n);

function idOfTar(buf: Buffer): string {
  return `sha512-${createHash('sha512').update(buf).digest('hex').slice(0, 64)}`;
}

async function rkt(args: string[]): Promise<string> {
  const r = await runRkt(args, { dirs });
  assert.equal(r.exitCode, 0, `rkt ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

interface ListEntry {
  id: string;
  name: string;
  import_time: number;
  last_used_time: number;
  size: number;
}

async function listJson(): Promise<ListEntry[]> {
  return JSON.parse(await rkt(['image', 'list', '--format=json'])) as ListEntry[];
}

test('build is reproducible and import gives the hash of the uncompressed tar', async () => {
  const src = await makeAciDir({ name: 'example.com/repro', version: '1.0', exec: ['/bin/true'], busybox: true, files: { 'etc/motd': 'hello\n' }, parent: scratch('') });
  const a = await buildAci(src, scratch('repro-a.aci'));
  const b = await buildAci(src, scratch('repro-b.aci'));
  const bytesA = await readFile(a);
  assert.deepEqual(bytesA, await readFile(b));
  const id = (await rkt(['image', 'import', a])).trim();
  assert.equal(id, idOfTar(bytesA));
  // Importing again is idempotent.
  assert.equal((await rkt(['image', 'import', a])).trim(), id);
  const list = await listJson();
  assert.equal(list.filter((e) => e.id === id).length, 1);
  const entry = list.find((e) => e.id === id);
  assert.equal(entry?.name, 'example.com/repro:1.0');
  assert.equal(entry?.size, bytesA.length);
});

test('every compression format imports to the same ID, and export re-imports identically', async () => {
  const src = await makeAciDir({ name: 'example.com/comp', version: '2', files: { 'data.txt': 'x'.repeat(10000) }, parent: scratch('') });
  const plain = await buildAci(src, scratch('comp.aci'));
  const gz = await buildAci(src, scratch('comp-gz.aci'), { compression: 'gzip' });
  const id = idOfTar(await readFile(plain));
  for (const [tool, ext] of [['bzip2', 'bz2'], ['xz', 'xz'], ['gzip', 'gz']] as const) {
    await execa(tool, ['-k', '-c', plain], { stdout: { file: `${plain}.${ext}` } });
  }
  for (const f of [plain, gz, `${plain}.bz2`, `${plain}.xz`, `${plain}.gz`]) {
    assert.equal((await rkt(['image', 'import', f])).trim(), id, `import of ${f}`);
  }
  const out = scratch('exported.aci');
  await rkt(['image', 'export', id.slice(0, 20), out]);
  assert.deepEqual(await readFile(out), await readFile(plain));
  const again = await runRkt(['image', 'export', id, out], { dirs });
  assert.equal(again.exitCode, 254);
  assert.match(again.stderr, /already exists/);
  await rkt(['image', 'export', '--overwrite', 'example.com/comp:2', out]);
  assert.equal((await rkt(['image', 'import', out])).trim(), id);
});

test('image list: table, --full, --no-legend, --fields, --sort/--order', async () => {
  const table = (await rkt(['image', 'list'])).trimEnd().split('\n');
  assert.match(table[0] ?? '', /^ID\s+NAME\s+SIZE\s+IMPORT TIME\s+LAST USED$/);
  const row = table.find((l) => l.includes('example.com/repro:1.0')) ?? '';
  assert.match(row, /^sha512-[0-9a-f]{32}\s/);
  assert.match(row, /(KiB|MiB)/);
  assert.match(row, /(ago|now)/);
  const full = (await rkt(['image', 'list', '--full', '--no-legend'])).trimEnd().split('\n');
  assert.ok(full.every((l) => /^sha512-[0-9a-f]{64}\s/.test(l)));
  assert.ok(!full.some((l) => l.startsWith('ID')));
  const names = (await rkt(['image', 'list', '--no-legend', '--fields=name', '--sort=name', '--order=desc'])).trim().split('\n');
  assert.deepEqual(names, ['example.com/repro:1.0', 'example.com/comp:2']);
  const bad = await runRkt(['image', 'list', '--fields=id,bogus'], { dirs });
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /bogus/);
});

test('extract, render with dependencies and pathWhitelist, cat-manifest', async () => {
  const base = await makeAciDir({
    name: 'example.com/base',
    version: '1',
    files: { 'etc/base.conf': 'base\n', 'etc/shared': 'from base\n', 'usr/lib/dropped': 'filtered\n' },
    parent: scratch(''),
  });
  await rkt(['image', 'import', await buildAci(base, scratch('base.aci'))]);
  const app = await makeAciDir({
    name: 'example.com/app',
    version: '1',
    exec: ['/bin/app'],
    files: { 'bin/app': { content: '#!/bin/sh\n', mode: 0o755 }, 'etc/shared': 'from app\n' },
    manifestExtra: {
      dependencies: [{ imageName: 'example.com/base', labels: [{ name: 'version', value: '1' }] }],
      pathWhitelist: ['/bin/app', '/etc/shared', '/etc/base.conf'],
    },
    parent: scratch(''),
  });
  const appId = (await rkt(['image', 'import', await buildAci(app, scratch('app.aci'))])).trim();

  const ext = scratch('extracted');
  await rkt(['image', 'extract', appId, ext]);
  assert.equal(await readFile(path.join(ext, 'rootfs/etc/shared'), 'utf8'), 'from app\n');
  await assert.rejects(stat(path.join(ext, 'rootfs/etc/base.conf')));
  assert.ok((await stat(path.join(ext, 'manifest'))).isFile());

  const ren = scratch('rendered');
  await rkt(['image', 'render', '--rootfs-only', 'example.com/app', ren]);
  assert.equal(await readFile(path.join(ren, 'etc/shared'), 'utf8'), 'from app\n');
  assert.equal(await readFile(path.join(ren, 'etc/base.conf'), 'utf8'), 'base\n');
  await assert.rejects(stat(path.join(ren, 'usr/lib/dropped')));
  assert.equal((await stat(path.join(ren, 'bin/app'))).mode & 0o777, 0o755);

  const busy = await runRkt(['image', 'render', appId, ren], { dirs });
  assert.equal(busy.exitCode, 254);
  assert.match(busy.stderr, /--overwrite/);
  await rkt(['image', 'render', '--overwrite', appId, ren]);
  assert.ok((await stat(path.join(ren, 'rootfs/etc/base.conf'))).isFile());

  const m = JSON.parse(await rkt(['image', 'cat-manifest', 'example.com/app:1'])) as { name: string };
  assert.equal(m.name, 'example.com/app');
  const pretty = await rkt(['image', 'cat-manifest', '--pretty-print', appId]);
  assert.ok(pretty.split('\n').length > 3);
});

test('symlinks, hardlinks and setuid bits survive render', async () => {
  const src = await makeAciDir({ name: 'example.com/links', files: { 'bin/tool': { content: 'tool', mode: 0o4755 } }, parent: scratch('') });
  const { symlink, link } = await import('node:fs/promises');
  await symlink('/bin/tool', path.join(src, 'rootfs/bin/abs-link'));
  await link(path.join(src, 'rootfs/bin/tool'), path.join(src, 'rootfs/bin/hard'));
  const id = (await rkt(['image', 'import', await buildAci(src, scratch('links.aci'))])).trim();
  const out = scratch('links-out');
  await rkt(['image', 'extract', '--rootfs-only', id, out]);
  assert.equal(await readlink(path.join(out, 'bin/abs-link')), '/bin/tool');
  const a = await stat(path.join(out, 'bin/tool'));
  const b = await stat(path.join(out, 'bin/hard'));
  assert.equal(a.ino, b.ino);
  const isRoot = process.getuid?.() === 0;
  assert.equal(a.mode & 0o7777, isRoot ? 0o4755 : 0o755);
  assert.ok((await lstat(path.join(out, 'bin/abs-link'))).isSymbolicLink());
});

test('verify detects a corrupted blob; rm by name and ID; gc with grace period', async () => {
  const src = await makeAciDir({ name: 'example.com/victim', files: { f: 'v' }, parent: scratch('') });
  const id = (await rkt(['image', 'import', await buildAci(src, scratch('victim.aci'))])).trim();
  assert.match(await rkt(['image', 'verify', id]), /: ok/);
  const blob = path.join(dirs.dir, 'cas', 'images', id, 'blob');
  const bytes = await readFile(blob);
  bytes[bytes.length - 1] = 1;
  await writeFile(blob, bytes);
  const v = await runRkt(['image', 'verify', id], { dirs });
  assert.equal(v.exitCode, 254);
  assert.match(v.stdout, /blob hashes to/);
  assert.equal((await rkt(['image', 'rm', 'example.com/victim'])).trim(), id);
  const gone = await runRkt(['image', 'rm', id], { dirs });
  assert.equal(gone.exitCode, 254);
  assert.match(gone.stderr, /not found/);

  const before = await listJson();
  assert.ok(before.length > 0);
  await rkt(['image', 'gc']); // default 24h grace: everything was used just now
  assert.equal((await listJson()).length, before.length);
  const removed = (await rkt(['image', 'gc', '--grace-period=0s'])).trim().split('\n');
  assert.equal(removed.length, before.length);
  assert.deepEqual(await listJson(), []);
  assert.deepEqual(await readdir(path.join(dirs.dir, 'cas', 'tmp')), []);
});
