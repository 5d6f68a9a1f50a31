// Which commands need root: rkt's list (run, prepare, run-prepared, enter, gc, rm, attach), nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RktError } from '../../common/errors.js';
import { ensureSuperuser, SUPERUSER_COMMANDS } from './superuser.js';

test('pod-changing commands refuse a non-root caller with NOT_ROOT (exit 254) and a hint', () => {
  assert.deepEqual([...SUPERUSER_COMMANDS].sort(), ['attach', 'enter', 'gc', 'prepare', 'rm', 'run', 'run-prepared']);
  for (const c of SUPERUSER_COMMANDS) {
    assert.throws(() => ensureSuperuser(c, 1000), (err: unknown) => {
      assert.ok(err instanceof RktError);
      assert.equal(err.code, 'NOT_ROOT');
      assert.equal(err.exitCode, 254);
      assert.match(err.message, new RegExp(`^cannot run as unprivileged user: "rkt ${c}" needs root`));
      assert.match(err.hint ?? '', /sudo/);
      return true;
    });
    assert.doesNotThrow(() => ensureSuperuser(c, 0));
  }
});

test('reading and fetching commands are left to the data dir\'s permissions', () => {
  for (const c of ['fetch', 'list', 'status', 'stop', 'image list', 'image rm', 'image gc', 'cat-manifest', 'version', 'trust']) {
    assert.doesNotThrow(() => ensureSuperuser(c, 1000), c);
  }
});
