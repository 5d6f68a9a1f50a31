// Functional: IMAGE arguments as full IDs, unique prefixes and names, with clear errors for the rest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { aciManifest, makeTarBuffer, runRkt, tempRktDirs, type RktDirs } from '../harness/aci.js';

let dirs: RktDirs;
let a = '';
let b = '';
before(async () => {
  dirs = await tempRktDirs();
  // Make images until two IDs share their first two hex digits (256 buckets: a few dozen suffice).
  const seen = new Map<string, { id: string; tar: Buffer }>();
  for (let i = 0; ; i++) {
    const manifest = JSON.stringify(aciManifest({ name: `example.com/resolve-${i}`, version: `${i}` }));
    const tar = await makeTarBuffer([
      { header: { name: 'manifest', type: 'file', mode: 0o644, mtime: new Date(0) }, body: manifest },
      { header: { name: 'rootfs', type: 'directory', mode: 0o755, mtime: new Date(0) } },
    ]);
    const id = `sha512-${createHash('sha512').update(tar).digest('hex').slice(0, 64)}`;
    const key = id.slice(0, 9);
    const other = seen.get(key);
    if (other) {
      for (const [n, t] of [['a', other.tar], ['b', tar]] as const) {
        const f = path.join(dirs.root, 'scratch', `${n}.aci`);
        await writeFile(f, t);
        const r = await runRkt(['image', 'import', f], { dirs });
        assert.equal(r.exitCode, 0, r.stderr);
      }
      a = other.id;
      b = id;
      break;
    }
    seen.set(key, { id, tar });
  }
});
after(async () => {
  await dirs.cleanup();
});

async function catName(ref: string): Promise<{ exitCode: number; name: string; stderr: string }> {
  const r = await runRkt(['image', 'cat-manifest', ref], { dirs });
  const name = r.exitCode === 0 ? (JSON.parse(r.stdout) as { name: string }).name : '';
  return { exitCode: r.exitCode, name, stderr: r.stderr };
}

test('full IDs, unique prefixes, upper case and over-long IDs resolve', async () => {
  const nameA = (await catName(a)).name;
  assert.match(nameA, /^example\.com\/resolve-\d+$/);
  let i = 9;
  while (a.slice(0, i) === b.slice(0, i)) i++;
  assert.equal((await catName(a.slice(0, i + 1))).name, nameA);
  assert.equal((await catName(a.toUpperCase().replace('SHA512-', 'sha512-'))).name, nameA);
  assert.equal((await catName(a + 'f'.repeat(64))).name, nameA);
  assert.equal((await catName(`${nameA}`)).name, nameA);
  const version = nameA.split('-').pop() ?? '';
  assert.equal((await catName(`${nameA}:${version}`)).name, nameA);
});

test('ambiguous, too short, non-hex and unknown IDs fail with clear errors', async () => {
  const amb = await catName(a.slice(0, 9));
  assert.equal(amb.exitCode, 254);
  assert.match(amb.stderr, /ambiguous image ID "sha512-[0-9a-f]{2}": 2 images match/);
  for (const short of ['sha512-', `${a.slice(0, 8)}`]) {
    const r = await catName(short);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /too short/);
  }
  const nonhex = await catName('sha512-zz');
  assert.equal(nonhex.exitCode, 254);
  assert.match(nonhex.stderr, /not hexadecimal/);
  let missing = 'sha512-00';
  while (a.startsWith(missing) || b.startsWith(missing)) missing = `sha512-${(parseInt(missing.slice(7), 16) + 1).toString(16).padStart(2, '0')}`;
  const nf = await catName(missing);
  assert.equal(nf.exitCode, 254);
  assert.match(nf.stderr, /not found/);
  const noName = await catName('example.com/no-such-image:1.0');
  assert.equal(noName.exitCode, 254);
  assert.match(noName.stderr, /no image named "example\.com\/no-such-image:1\.0"/);
  const rm = await runRkt(['image', 'rm', a.slice(0, 9)], { dirs });
  assert.equal(rm.exitCode, 254);
  assert.match(rm.stderr, /ambiguous/);
});
