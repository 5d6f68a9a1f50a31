// rkt run with the real nspawn stage1: exit codes (single app, first failing of several), status files,
// the persistent journal read with journalctl -D, and the app's env, user, groups and working directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { journalMessages, makeNspawnHarness, skipReason } from './nspawn-helpers.js';
import { assertStartPhases, firstFailingAppBody, singleAppExitBody } from './shared-bodies.js';

const skip = skipReason();

test('a single app exiting 42 makes rkt run exit 42, records the status and logs to the journal', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    await singleAppExitBody(h, (images) => h.runPod(images, { globals: ['--debug'] }), (r) => {
      // the console copy of the journal line, as nspawn passes the pod's console through
      assert.match(r.stdout, /exit42\[[0-9]+\]: hello-from-the-app/);
      assertStartPhases(r.stderr);
    });
  } finally {
    await h.teardown();
  }
});

test('three apps exiting 0, 5, 6: rkt run exits 5 and each status is recorded', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    await firstFailingAppBody(h);
  } finally {
    await h.teardown();
  }
});

test('all apps exiting 0 make rkt run exit 0', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const a = await h.image('ok-a', ['/bin/true']);
    const b = await h.image('ok-b', ['/bin/sh', '-c', 'exit 0']);
    const r = await h.runPod([a, b]);
    assert.equal(r.exitCode, 0, r.stderr);
  } finally {
    await h.teardown();
  }
});

test('the app runs with its env, user and groups from the image, working dir, hostname and bounded caps', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const script = [
      'echo "user=$(id -u):$(id -g) groups=$(id -G)"', 'echo "pwd=$(pwd)"', 'echo "FOO=$FOO"', 'echo "AC_APP_NAME=$AC_APP_NAME"',
      'echo "home=$HOME"', 'echo "hostname=$(cat /etc/hostname)"', 'grep -E "^(CapBnd|Seccomp|NoNewPrivs):" /proc/self/status',
    ].join('; ');
    const img = await h.image('envapp', ['/bin/sh', '-c', script], {
      files: {
        'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nworker:x:1234:2345:w:/home/worker:/bin/sh\n',
        'etc/group': 'root:x:0:\nworkers:x:2345:\nextra:x:3456:\n',
        'work/dir/.keep': '',
      },
      manifestExtra: {
        app: {
          exec: ['/bin/sh', '-c', script], user: 'worker', group: 'workers', supplementaryGIDs: [3456],
          workingDirectory: '/work/dir', environment: [{ name: 'FOO', value: 'bar baz "q" $x' }],
        },
      },
    });
    const r = await h.runPod([img]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const lines = (await journalMessages(h.findPodDir(r.uuid), r.uuid, 'envapp')).join('\n');
    assert.match(lines, /user=1234:2345 groups=2345 3456/);
    assert.match(lines, /pwd=\/work\/dir/);
    assert.match(lines, /FOO=bar baz "q" \$x/);
    assert.match(lines, /AC_APP_NAME=envapp/);
    assert.match(lines, /home=\/home\/worker/);
    assert.match(lines, new RegExp(`hostname=rkt-${r.uuid}`));
    // appc's default 14 capabilities, a seccomp filter, no new privileges
    assert.match(lines, /CapBnd:\s+00000000a80425fb/);
    assert.match(lines, /Seccomp:\s+2/);
    assert.match(lines, /NoNewPrivs:\s+1/);
  } finally {
    await h.teardown();
  }
});
