// Functional: several rkt processes importing and rendering at once, and kill -9 in the middle of an import.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { buildAci, makeAciDir, rktBin, runRkt, tempRktDirs, type RktDirs } from '../harness/aci.js';

let dirs: RktDirs;
before(async () => {
  dirs = await tempRktDirs();
});
after(async () => {
  await dirs.cleanup();
});

const scratch = (n: string): string => path.join(dirs.root, 'scratch', n);
const storeModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../stage0/store/index.js');

async function listIds(): Promise<string[]> {
  const r = await runRkt(['image', 'list', '--format=json'], { dirs });
  assert.equal(r.exitCode, 0, r.stderr);
  return (JSON.parse(r.stdout) as { id: string }[]).map((e) => e.id).sort();
}

test('8 concurrent imports of different and identical images', async () => {
  const acis: string[] = [];
  for (let i = 0; i < 4; i++) {
    const src = await makeAciDir({ name: `example.com/concurrent-${i}`, files: { 'data.bin': randomBytes(256 * 1024) .toString('base64') }, parent: scratch('') });
    acis.push(await buildAci(src, scratch(`c${i}.aci`)));
  }
  const same = acis[0] as string;
  const jobs = [...acis, same, same, same, same].map((f) => runRkt(['image', 'import', f], { dirs }));
  const results = await Promise.all(jobs);
  for (const r of results) assert.equal(r.exitCode, 0, r.stderr);
  const ids = results.map((r) => r.stdout.trim());
  assert.equal(new Set(ids).size, 4);
  assert.deepEqual(await listIds(), [...new Set(ids)].sort());
  assert.deepEqual(await readdir(path.join(dirs.dir, 'cas', 'tmp')), []);
  const v = await runRkt(['image', 'verify', ...new Set(ids)], { dirs });
  assert.equal(v.exitCode, 0, v.stdout + v.stderr);
});

test('concurrent renderTree calls from separate processes publish one tree', async () => {
  const [id] = await listIds();
  assert.ok(id);
  const script = `const { openStore } = await import(${JSON.stringify(storeModule)});
const s = await openStore(${JSON.stringify(dirs.dir)});
const t = await s.renderTree(${JSON.stringify(id)});
process.stdout.write(JSON.stringify(t));`;
  const runs = await Promise.all([1, 2, 3, 4].map(() => execa(process.execPath, ['--input-type=module', '-e', script], { reject: false })));
  for (const r of runs) assert.equal(r.exitCode, 0, String(r.stderr));
  const trees = runs.map((r) => JSON.parse(String(r.stdout)) as { treeId: string; rootfs: string });
  assert.equal(new Set(trees.map((t) => t.treeId)).size, 1);
  assert.deepEqual(await readdir(path.join(dirs.dir, 'cas', 'trees')), [trees[0]?.treeId]);
  assert.ok((await stat(path.join(trees[0]?.rootfs ?? '', 'data.bin'))).isFile());
  assert.deepEqual(await readdir(path.join(dirs.dir, 'cas', 'tmp')), []);
});

test('kill -9 during a large import leaves a consistent store; a later import succeeds', async () => {
  const before = await listIds();
  const src = await makeAciDir({ name: 'example.com/big', files: { 'random.bin': { content: randomBytes(50 * 1024 * 1024), mode: 0o644 } }, parent: scratch('') });
  const big = await buildAci(src, scratch('big.aci'), { compression: 'gzip' });
  const tmp = path.join(dirs.dir, 'cas', 'tmp');
  const child = execa(process.execPath, [rktBin(), ...dirs.globalArgs(), 'image', 'import', big], { reject: false });
  // Wait until the import has a work dir with part of the blob written, then kill it.
  let killedMidway = false;
  for (let i = 0; i < 2000 && child.exitCode === null; i++) {
    const work = (await readdir(tmp).catch(() => [] as string[]))[0];
    const blob = work ? await stat(path.join(tmp, work, 'blob')).catch(() => undefined) : undefined;
    if (blob && blob.size > 0) {
      child.kill('SIGKILL');
      killedMidway = true;
      break;
    }
    await sleep(5);
  }
  const r = await child;
  assert.ok(killedMidway, 'the import finished before it could be killed');
  assert.equal(r.signal, 'SIGKILL');
  // The half-written work dir is invisible to readers...
  assert.deepEqual(await listIds(), before);
  const v = await runRkt(['image', 'verify', ...before], { dirs });
  assert.equal(v.exitCode, 0, v.stdout);
  // ...and swept by the next rkt that opens the store.
  const again = await runRkt(['image', 'import', big], { dirs });
  assert.equal(again.exitCode, 0, again.stderr);
  const id = again.stdout.trim();
  assert.deepEqual(await listIds(), [...before, id].sort());
  assert.deepEqual(await readdir(tmp), []);
  const ok = await runRkt(['image', 'verify', id], { dirs });
  assert.equal(ok.exitCode, 0, ok.stdout);
});
