// rkt enter, stop and gc with the real nspawn stage1: an entered command is confined like the app
// (capability bounding set, seccomp, the app's cgroup, its identity) and returns its exit code; a
// graceful stop lets the app handle SIGTERM and records its status; --force kills; gc leaves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeNspawnHarness, mountsUnder, podCgroups, podPayloadProcesses, processesIn, skipReason } from './nspawn-helpers.js';

const skip = skipReason();
const LOOP = 'trap "echo got-term; exit 7" TERM; echo started; while true; do sleep 0.1; done';

function procStatus(text: string, key: string): string | undefined {
  return new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(text)?.[1];
}

test('enter runs the command with the app\'s caps, seccomp filter, cgroup and user, and returns its exit code', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('looper', ['/bin/sh', '-c', LOOP], {
      files: { 'etc/passwd': 'root:x:0:0::/:/bin/sh\nsvc:x:4321:4321::/:/bin/sh\n', 'etc/group': 'root:x:0:\nsvc:x:4321:\n' },
      manifestExtra: { app: { exec: ['/bin/sh', '-c', LOOP], user: 'svc', group: 'svc' } },
    });
    // The app's shell, found by its command line (the pattern is split so this script never matches itself).
    const appPid = 'for p in /proc/[0-9]*; do grep -q "while tr""ue" $p/cmdline 2>/dev/null && echo ${p#/proc/}; done | head -n 1';
    const pod = await h.startPod([img]);
    const code = await h.rkt(['enter', '--app=looper', pod.uuid, '/bin/sh', '-c', 'exit 3']);
    assert.equal(code.exitCode, 3, code.stderr);
    // arguments reach the command verbatim (systemd would expand ${VAR} in a unit's command line)
    const verbatim = await h.rkt(['enter', '--app=looper', pod.uuid, '/bin/echo', '${NOT_EXPANDED}', '$$', '%i']);
    assert.equal(verbatim.stdout.trim(), '${NOT_EXPANDED} $$ %i', verbatim.stderr);

    const app = await h.rkt(['enter', '--app=looper', pod.uuid, '/bin/sh', '-c',
      `cat /proc/$(${appPid})/status; echo ---;` +
      ' cat /proc/self/status; echo ---; cat /proc/self/cgroup; echo ---; id -u']);
    assert.equal(app.exitCode, 0, app.stderr);
    const [appStatus = '', selfStatus = '', cgroup = '', uid = ''] = app.stdout.split('---\n');
    assert.equal(procStatus(selfStatus, 'CapBnd'), '00000000a80425fb');
    assert.match(appStatus, /^Name:\s+sh$/m, app.stdout + app.stderr);
    assert.equal(procStatus(selfStatus, 'CapBnd'), procStatus(appStatus, 'CapBnd'));
    assert.equal(procStatus(selfStatus, 'Seccomp'), '2');
    assert.equal(procStatus(selfStatus, 'NoNewPrivs'), '1');
    assert.equal(procStatus(selfStatus, 'CapEff'), '0000000000000000');
    assert.match(cgroup, /^0::\/app\.slice\/app-looper\.slice\//m);
    assert.equal(uid.trim(), '4321');

    const stop = await h.rkt(['stop', pod.uuid]);
    assert.equal(stop.exitCode, 0, stop.stderr);
    await pod.done;
    const rm = await h.rkt(['rm', pod.uuid]);
    assert.equal(rm.exitCode, 0, rm.stderr);
    assert.deepEqual(podCgroups(pod.uuid), []);
  } finally {
    await h.teardown();
  }
});

test('graceful stop delivers SIGTERM to the app and records its status; gc leaves no mounts or processes', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('trapper', ['/bin/sh', '-c', LOOP]);
    const pod = await h.startPod([img]);
    const stop = await h.rkt(['stop', pod.uuid]);
    assert.equal(stop.exitCode, 0, stop.stderr);
    const done = await pod.done;
    assert.match(done.stdout, /trapper\[[0-9]+\]: got-term/);
    const podDir = h.findPodDir(pod.uuid);
    assert.equal(fs.readFileSync(path.join(podDir, 'stage1/rootfs/rkt/status/trapper'), 'utf8').trim(), '7');
    const st = await h.rkt(['status', pod.uuid]);
    assert.match(st.stdout, /app-trapper=7/);

    assert.deepEqual(podPayloadProcesses(pod.uuid), []);
    const rm = await h.rkt(['rm', pod.uuid]);
    assert.equal(rm.exitCode, 0, rm.stderr);
    assert.deepEqual(mountsUnder(podDir), []);
    assert.deepEqual(processesIn(podDir), []);
    assert.equal(fs.existsSync(podDir), false);
    assert.deepEqual(podCgroups(pod.uuid), []);
  } finally {
    await h.teardown();
  }
});

test('stop --force kills the pod at once', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('stubborn', ['/bin/sh', '-c', 'trap "" TERM; echo started; while true; do sleep 0.1; done']);
    const pod = await h.startPod([img]);
    const podDir = h.findPodDir(pod.uuid);
    const stop = await h.rkt(['stop', '--force', pod.uuid]);
    assert.equal(stop.exitCode, 0, stop.stderr);
    const done = await pod.done;
    assert.notEqual(done.exitCode, 0);
    assert.deepEqual(podPayloadProcesses(pod.uuid), []);
    const rm = await h.rkt(['rm', pod.uuid]);
    assert.equal(rm.exitCode, 0, rm.stderr);
    assert.deepEqual(mountsUnder(podDir), []);
    assert.deepEqual(podCgroups(pod.uuid), []);
  } finally {
    await h.teardown();
  }
});

test('a pod whose systemd-nspawn is SIGKILLed does not outlive it', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('orphan', ['/bin/sh', '-c', LOOP]);
    const pod = await h.startPod([img]);
    const podDir = h.findPodDir(pod.uuid);
    const nspawn = Number(fs.readFileSync(path.join(podDir, 'ppid'), 'utf8').trim());
    assert.ok(podPayloadProcesses(pod.uuid).length > 0);
    process.kill(nspawn, 'SIGKILL');
    await pod.done;
    // the pod's watchdog notices the released pod lock and powers the PID namespace off
    for (let i = 0; i < 100 && podPayloadProcesses(pod.uuid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(podPayloadProcesses(pod.uuid), []);
  } finally {
    await h.teardown();
  }
});
