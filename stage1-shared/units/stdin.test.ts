import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAttachArgs, buildAttachArgs } from '../../common/stage1-contract.js';
import { appFiles, appServiceUnit, attachableStdin, attachStdinArgv, stdinHolderUnit, type AppUnitSpec } from './index.js';

function spec(over: Partial<AppUnitSpec> = {}): AppUnitSpec {
  return {
    name: 'sh', exec: ['/bin/sh'], identity: { uid: 0, gid: 0, supplementaryGids: [] }, workingDirectory: '/', env: [],
    readOnlyRootfs: false, noNewPrivileges: true, restrictPaths: true, binds: [], interactive: false, preStart: [], postStop: [], ...over,
  };
}

test('an app with --stdin=stream reads its FIFO and wants (not requires) the holder that keeps it open', () => {
  const unit = appServiceUnit(spec({ stdin: { once: true } }), 'rkt-reaper@sh.service');
  assert.match(unit, /^StandardInput=file:\/run\/rkt\/stdin\/sh$/m);
  assert.match(unit, /^Wants=rkt-stdin-sh\.service$/m);
  assert.match(unit, /^After=rkt-stdin-sh\.service$/m);
  assert.doesNotMatch(unit, /Requires=rkt-stdin/);
  // its output still goes to the journal, not to the FIFO
  assert.match(unit, /^StandardOutput=journal\+console$/m);
  assert.ok(appFiles(spec({ stdin: { once: false } })).some((f) => f.path.endsWith('/rkt-stdin-sh.service')));
  assert.ok(!appFiles(spec()).some((f) => f.path.includes('rkt-stdin')));
  assert.doesNotMatch(appServiceUnit(spec(), 'r.service'), /StandardInput/);
});

test('the holder makes a fresh FIFO, holds it read-write, and goes when the app no longer needs it', () => {
  const unit = stdinHolderUnit('sh');
  assert.match(unit, /^StopWhenUnneeded=yes$/m);
  assert.match(unit, /^ExecStartPre=\/usr\/bin\/mkfifo -m 0600 \/run\/rkt\/stdin\/sh$/m);
  assert.match(unit, /3<>\/run\/rkt\/stdin\/sh/);
});

test('the attach writer copies stdin into the FIFO; with stdin-once it then stops the holder', () => {
  const once = attachStdinArgv('sh', { once: true }).join(' ');
  assert.match(once, /--pipe/);
  assert.match(once, /cat > \/run\/rkt\/stdin\/sh; \/usr\/bin\/systemctl stop --no-block rkt-stdin-sh\.service$/);
  assert.doesNotMatch(attachStdinArgv('sh', { once: false }).join(' '), /systemctl stop/);
  // systemd would expand $ in a transient unit's command line
  assert.ok(!attachStdinArgv('sh', { once: true }).some((a) => a.includes('$')));
});

test('attach is refused for an app without an attachable stdin, and the contract argv round-trips', () => {
  const profile = { properties: [], path: '/bin', workingDirectory: '/' };
  assert.throws(() => attachableStdin({ sh: profile }, 'sh'), /app "sh" has no attachable stdin/);
  assert.throws(() => attachableStdin({ sh: profile }, 'other'), /no such app/);
  assert.deepEqual(attachableStdin({ sh: { ...profile, stdin: { once: true } } }, 'sh'), { once: true });
  assert.deepEqual(parseAttachArgs(buildAttachArgs({ pid: 42, appName: 'sh' })), { pid: 42, appName: 'sh' });
  assert.throws(() => parseAttachArgs(['--pid=0', '--appname=sh']), /--pid/);
  assert.throws(() => parseAttachArgs(['--pid=4', '--appname=Bad_Name']), /--appname/);
});
