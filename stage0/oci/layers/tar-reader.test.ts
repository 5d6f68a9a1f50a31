import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RktError } from '../../../common/errors.js';
import { TarReader, type TarHeader } from './tar-reader.js';
import { makeTar } from './testutil.js';

interface Seen {
  readonly h: TarHeader;
  body: string;
}

function read(tar: Buffer, chunk = 100): Seen[] {
  const out: Seen[] = [];
  const r = new TarReader({
    entry: (h) => out.push({ h, body: '' }),
    data: (c) => {
      const last = out[out.length - 1] as Seen;
      last.body += Buffer.from(c).toString('latin1');
    },
    entryEnd: () => {},
  }, 'layer t');
  for (let i = 0; i < tar.length; i += chunk) r.push(tar.subarray(i, i + chunk));
  r.end();
  return out;
}

function invalid(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof RktError && e.code === 'IMAGE_INVALID' && re.test(e.message));
}

test('PAX path, uid, gid, mtime and binary xattrs override the ustar fields', () => {
  const bin = Buffer.from([0xff, 0x00, 0x80, 0x0a, 0x3d]);
  const [e] = read(makeTar([{ name: 'short', body: 'abc', uid: 1, gid: 2, pax: { path: 'é/long', uid: '3000000', gid: '4000000', mtime: '1234.5' }, xattrs: { 'user.bin': bin } }]));
  assert.ok(e);
  assert.equal(e.h.name, 'é/long');
  assert.deepEqual([e.h.uid, e.h.gid, e.h.mtime], [3_000_000, 4_000_000, 1234.5]);
  assert.deepEqual(e.h.xattrs.get('user.bin'), bin);
  assert.equal(e.body, 'abc');
});

test('a global PAX header applies to the entries after it', () => {
  const g = makeTar([{ name: 'x', pax: { uid: '77', 'SCHILY.xattr.user.g': 'v' } }], { endMarker: false });
  // Turn the per-file 'x' header into a global 'g' one (and fix its checksum).
  g[156] = 0x67;
  g.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of g.subarray(0, 512)) sum += c;
  g.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  const rest = makeTar([{ name: 'a', body: '1' }, { name: 'b', body: '2', uid: 5, pax: { uid: '8' } }]);
  // Drop the 'x' entry's own ustar header (after the PAX body block) so only the global header stays.
  const onlyGlobal = g.subarray(0, 1024);
  const out = read(Buffer.concat([onlyGlobal, rest]));
  assert.deepEqual(out.map((e) => [e.h.name, e.h.uid, e.h.xattrs.get('user.g')?.toString()]), [['a', 77, 'v'], ['b', 8, 'v']]);
});

test('base-256 numbers, GNU long names and header-only types', () => {
  const t = makeTar([{ name: 'f', body: 'z' }, { name: 'd', type: 'dir' }, { name: 'l', type: 'link', linkname: 'f' }]);
  // uid 2^40 in base-256 in the first header.
  t.fill(0, 108, 116);
  t[108] = 0x80;
  t[110] = 0x01;
  t.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of t.subarray(0, 512)) sum += c;
  t.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  const out = read(t, 1);
  assert.equal(out[0]?.h.uid, 2 ** 40);
  assert.deepEqual(out.map((e) => e.h.type), ['file', 'directory', 'link']);
  assert.equal(out[2]?.h.linkname, 'f');
});

test('a stream may end at a header boundary without the end marker, not inside an entry', () => {
  assert.equal(read(makeTar([{ name: 'a', body: 'x' }], { endMarker: false })).length, 1);
  assert.equal(read(Buffer.alloc(0)).length, 0);
  const t = makeTar([{ name: 'a', body: 'x'.repeat(600) }], { endMarker: false });
  invalid(() => read(t.subarray(0, 700)), /truncated/);
  invalid(() => read(t.subarray(0, 1024)), /truncated/); // padding missing
  invalid(() => read(t.subarray(0, 300)), /truncated/);
});

test('a zero block followed by data, a bad checksum, sparse files and unknown types are invalid', () => {
  const one = makeTar([{ name: 'a', body: 'x' }], { endMarker: false });
  invalid(() => read(Buffer.concat([Buffer.alloc(512), one])), /lone zero block/);
  const bad = Buffer.from(one);
  bad[0] = 0x62;
  invalid(() => read(bad), /bad tar header checksum/);
  for (const [flag, re] of [['S', /GNU sparse/], ['V', /unsupported tar type "V"/]] as const) {
    const t = Buffer.from(one);
    t[156] = flag.charCodeAt(0);
    t.fill(0x20, 148, 156);
    let sum = 0;
    for (const c of t.subarray(0, 512)) sum += c;
    t.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    invalid(() => read(t), re);
  }
  invalid(() => read(makeTar([{ name: 'a', pax: { 'GNU.sparse.map': '0,1' } }])), /sparse/);
});
