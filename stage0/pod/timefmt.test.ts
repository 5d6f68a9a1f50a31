// Go-compatible durations and time text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoTime, humanizeSince, parseDuration } from './timefmt.js';

test('parseDuration: Go forms', () => {
  assert.equal(parseDuration('30m', 'x'), 1_800_000);
  assert.equal(parseDuration('1h30m', 'x'), 5_400_000);
  assert.equal(parseDuration('1.5s', 'x'), 1500);
  assert.equal(parseDuration('0', 'x'), 0);
  assert.equal(parseDuration('250ms', 'x'), 250);
  assert.throws(() => parseDuration('10', '--grace-period'), /invalid --grace-period/);
  assert.throws(() => parseDuration('1d', 'x'));
});

test('formatGoTime and humanizeSince', () => {
  assert.match(formatGoTime(new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 670))), /^\d{4}-\d\d-\d\d \d\d:\d\d:05\.67 [+-]\d{4} \S+$/);
  const now = new Date(1_000_000_000_000);
  assert.equal(humanizeSince(new Date(now.getTime() - 120_000), now), '2 minutes ago');
  assert.equal(humanizeSince(new Date(now.getTime() - 1000), now), '1 second ago');
  assert.equal(humanizeSince(now, now), 'now');
});
