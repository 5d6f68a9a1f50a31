// The journalctl argv `rkt logs` and GetLogs run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { journalctlArgs } from './journal.js';

test('the whole journal, as rkt logs reads it', () => {
  assert.deepEqual(journalctlArgs('/j', { follow: false }), ['-D', '/j', '--no-pager', '-o', 'short-precise']);
});

test('one app, following, the last lines, between two times, quiet', () => {
  assert.deepEqual(journalctlArgs('/j', { app: 'web', follow: true, lines: 10, since: 100, until: 200, quiet: true }), [
    '-D', '/j', '--no-pager', '-o', 'short-precise', '-q', '-f', '-n', '10', '--since=@100', '--until=@200', 'SYSLOG_IDENTIFIER=web',
  ]);
});
