// Functional: `rkt image gc` keeps images and rendered trees that pod directories still reference.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { buildAci, makeAciDir, runRkt, tempRktDirs, type RktDirs } from '../harness/aci.js';

let dirs: RktDirs;
before(async () => {
  dirs = await tempRktDirs();
});
after(async () => {
  await dirs.cleanup();
});

const storeModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../stage0/store/index.js');

async function importNew(name: string): Promise<string> {
  const src = await makeAciDir({ name, files: { f: name }, parent: path.join(dirs.root, 'scratch') });
  const r = await runRkt(['image', 'import', await buildAci(src, path.join(dirs.root, 'scratch', `${name.replace(/\W/g, '_')}.aci`))], { dirs });
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout.trim();
}

async function renderTree(id: string): Promise<{ treeId: string; rootfs: string }> {
  const script = `const { openStore } = await import(${JSON.stringify(storeModule)});
process.stdout.write(JSON.stringify(await (await openStore(${JSON.stringify(dirs.dir)})).renderTree(${JSON.stringify(id)})));`;
  const r = await execa(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(String(r.stdout)) as { treeId: string; rootfs: string };
}

async function listIds(): Promise<string[]> {
  const r = await runRkt(['image', 'list', '--format=json'], { dirs });
  return (JSON.parse(r.stdout) as { id: string }[]).map((e) => e.id).sort();
}

test('gc spares images and trees referenced by pods, then removes them once the pods are gone', async () => {
  const inManifest = await importNew('example.com/gc-app');
  const stage1 = await importNew('example.com/gc-stage1');
  const viaTree = await importNew('example.com/gc-tree');
  const unused = await importNew('example.com/gc-unused');
  const unusedTree = await renderTree(unused);
  const tree = await renderTree(viaTree);

  const pods = path.join(dirs.dir, 'pods');
  const p1 = path.join(pods, 'run', '11111111-1111-1111-1111-111111111111');
  const p2 = path.join(pods, 'prepared', '22222222-2222-2222-2222-222222222222');
  await mkdir(path.join(p1), { recursive: true });
  await mkdir(path.join(p2, 'stage1'), { recursive: true });
  await writeFile(path.join(p1, 'pod'), JSON.stringify({ acKind: 'PodManifest', acVersion: '0.8.11', apps: [{ name: 'a', image: { id: inManifest } }] }));
  await writeFile(path.join(p2, 'stage1', 'image-id'), `${stage1}\n`);
  await writeFile(path.join(p2, 'overlay-layers.json'), JSON.stringify([{ name: 'stage1', target: 'stage1/rootfs', lower: tree.rootfs }]));
  // Unreadable junk in a pod dir must not break gc.
  await mkdir(path.join(pods, 'run', 'junk'), { recursive: true });
  await writeFile(path.join(pods, 'run', 'junk', 'pod'), '{not json');

  const r = await runRkt(['image', 'gc', '--grace-period=0'], { dirs });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [unused]);
  assert.deepEqual(await listIds(), [inManifest, stage1, viaTree].sort());
  assert.deepEqual(await readdir(path.join(dirs.dir, 'cas', 'trees')), [tree.treeId]);
  assert.ok(!(await readdir(path.join(dirs.dir, 'cas', 'trees'))).includes(unusedTree.treeId));

  await rm(pods, { recursive: true });
  const r2 = await runRkt(['image', 'gc', '--grace-period=0'], { dirs });
  assert.equal(r2.exitCode, 0, r2.stderr);
  assert.deepEqual(await listIds(), []);
  assert.deepEqual(await readdir(path.join(dirs.dir, 'cas', 'trees')), []);
  assert.deepEqual(await readdir(path.join(dirs.dir, 'cas', 'tmp')), []);
});
