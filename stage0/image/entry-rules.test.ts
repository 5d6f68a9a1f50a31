// Unit tests for the per-entry ACI rules: name normalization, traversal, links, devices, setuid, bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Header } from 'tar-stream';
import { EntryChecker, normalizeEntryName } from './entry-rules.js';
import { DEFAULT_LIMITS, extractedMode } from './limits.js';

const h = (name: string, extra: Partial<Header> = {}): Header =>
  ({ name, type: 'file', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, ...extra }) as Header;

test('normalizeEntryName strips ./ and trailing / and refuses escapes', () => {
  assert.equal(normalizeEntryName('./rootfs/a/', 4096), 'rootfs/a');
  assert.equal(normalizeEntryName('././manifest', 4096), 'manifest');
  for (const bad of ['/etc/passwd', 'rootfs/../x', 'rootfs//x', 'rootfs/./x', '', '.', 'a\0b', '..']) {
    assert.throws(() => normalizeEntryName(bad, 4096), { code: 'IMAGE_HOSTILE' }, bad);
  }
  assert.throws(() => normalizeEntryName(`rootfs/${'a'.repeat(300)}`, 4096), /longer than 255/);
  assert.throws(() => normalizeEntryName('rootfs/x', 3), /longer than 3 bytes/);
});

test('EntryChecker accepts a normal image and requires manifest and rootfs', () => {
  const c = new EntryChecker(DEFAULT_LIMITS);
  c.check(h('manifest', { size: 10 }));
  c.check(h('rootfs', { type: 'directory' }));
  c.check(h('rootfs/bin', { type: 'directory' }));
  c.check(h('rootfs/bin/busybox', { size: 100, mode: 0o4755 }));
  c.check(h('rootfs/bin/sh', { type: 'symlink', linkname: '/bin/busybox' }));
  c.check(h('rootfs/bin/ash', { type: 'link', linkname: 'rootfs/bin/busybox' }));
  c.check(h('rootfs/run/fifo', { type: 'fifo' }));
  c.finish();
  assert.throws(() => new EntryChecker(DEFAULT_LIMITS).finish(), /no "manifest"/);
});

test('EntryChecker refuses writes through symlinks and into files', () => {
  const c = new EntryChecker(DEFAULT_LIMITS);
  c.check(h('rootfs', { type: 'directory' }));
  c.check(h('rootfs/l', { type: 'symlink', linkname: '/' }));
  assert.throws(() => c.check(h('rootfs/l/x')), /written through symlink "rootfs\/l"/);
  assert.throws(() => c.check(h('rootfs/l/deep/er', { type: 'directory' })), /written through symlink/);
  c.check(h('rootfs/f'));
  assert.throws(() => c.check(h('rootfs/f/x')), /not a directory/);
  assert.throws(() => c.check(h('rootfs/f')), /duplicate/);
});

test('EntryChecker refuses bad hardlinks, devices, unsafe setuid and oversize', () => {
  const c = new EntryChecker(DEFAULT_LIMITS);
  c.check(h('rootfs', { type: 'directory' }));
  c.check(h('rootfs/d', { type: 'directory' }));
  assert.throws(() => c.check(h('rootfs/a', { type: 'link', linkname: 'rootfs/missing' })), /not an earlier regular file/);
  assert.throws(() => c.check(h('rootfs/b', { type: 'link', linkname: 'rootfs/d' })), /not an earlier regular file/);
  assert.throws(() => c.check(h('rootfs/c', { type: 'link', linkname: '/etc/shadow' })), /absolute/);
  assert.throws(() => c.check(h('rootfs/e', { type: 'character-device' })), /character device/);
  assert.throws(() => c.check(h('rootfs/g', { mode: 0o2775 })), /setuid\/setgid and writable/);
  c.check(h('rootfs/setgid-dir', { type: 'directory', mode: 0o2775 }));
  const small = new EntryChecker({ ...DEFAULT_LIMITS, maxTotalBytes: 100, maxEntries: 3 });
  small.check(h('rootfs', { type: 'directory' }));
  small.check(h('rootfs/x', { size: 60 }));
  assert.throws(() => new EntryChecker({ ...DEFAULT_LIMITS, maxTotalBytes: 100 }).check(h('rootfs/big', { size: 101 })), /exceed 100 bytes/);
  small.check(h('rootfs/y'));
  assert.throws(() => small.check(h('rootfs/z')), /more than 3 entries/);
  assert.throws(() => new EntryChecker(DEFAULT_LIMITS).check(h('etc/passwd')), /unexpected top-level entry/);
});

test('setuid bits are kept only as root', () => {
  assert.equal(extractedMode(0o104755, true), 0o4755);
  assert.equal(extractedMode(0o4755, false), 0o755);
  assert.equal(extractedMode(0o3777, false), 0o1777);
});
