// Unit tests for image list formatting and the gc duration parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable, humanizeAgo, humanizeBytes } from './image-list-format.js';
import { parseDuration } from './image-gc.js';

test('humanizeBytes uses IEC units like go-humanize', () => {
  assert.equal(humanizeBytes(0), '0 B');
  assert.equal(humanizeBytes(1023), '1023 B');
  assert.equal(humanizeBytes(1024), '1.0 KiB');
  assert.equal(humanizeBytes(1536), '1.5 KiB');
  assert.equal(humanizeBytes(82854982), '79 MiB');
});

test('humanizeAgo', () => {
  const now = new Date('2024-01-10T00:00:00Z');
  const ago = (s: number): string => humanizeAgo(new Date(now.getTime() - s * 1000), now);
  assert.equal(ago(0), 'now');
  assert.equal(ago(1), '1 second ago');
  assert.equal(ago(59), '59 seconds ago');
  assert.equal(ago(120), '2 minutes ago');
  assert.equal(ago(3600), '1 hour ago');
  assert.equal(ago(3 * 86400), '3 days ago');
  assert.equal(ago(-120), '2 minutes from now');
});

test('formatTable aligns columns', () => {
  assert.deepEqual(formatTable([['ID', 'NAME'], ['abc', 'x']]), ['ID   NAME', 'abc  x']);
});

test('parseDuration reads Go durations', () => {
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.throws(() => parseDuration('tomorrow'), /invalid duration/);
  assert.throws(() => parseDuration('10'), /invalid duration/);
});
