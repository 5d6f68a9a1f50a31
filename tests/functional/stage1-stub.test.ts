// The stage0 -> stage1 crossing, checked against docs/stage1-contract.md with a third-party (stub) stage1:
// run argv, RKT_LOCK_FD, cwd, stdio, no Node process left, interface-version gating, enter, missing entrypoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseRunArgs } from '../../common/stage1-contract.js';
import { killProcessesUnder, makePodHarness, type PodHarness } from '../harness/pod.js';

async function withHarness(fn: (h: PodHarness) => Promise<void>): Promise<void> {
  const h = await makePodHarness('rkt-s1-');
  try {
    await fn(h);
  } finally {
    await h.cleanup();
  }
}

function kv(text: string): Map<string, string> {
  return new Map(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
}

test('run hands over by exec: argv per contract, locked pod dir fd, cwd, stdio inherited', async () => {
  await withHarness(async (h) => {
    const img = await h.image('probe', ['/bin/true']);
    const uuidFile = path.join(h.dirs.root, 'uuid');
    const r = await h.rkt([
      '--insecure-options=image,capabilities,seccomp', 'run', ...h.stage1Flags(), `--uuid-file-save=${uuidFile}`,
      '--hostname=myhost', '--dns=10.0.0.53', '--dns-search=example.org', '--hosts-entry=10.1.1.1=db', img,
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    const uuid = (await fs.readFile(uuidFile, 'utf8')).trim();
    const podDir = h.podDir('run', uuid);
    const argv = (await fs.readFile(path.join(podDir, 'stub-run-args'), 'utf8')).trim().split('\n');
    const parsed = parseRunArgs(argv);
    assert.equal(parsed.uuid, uuid);
    assert.deepEqual(parsed.net, ['default']);
    assert.equal(parsed.hostname, 'myhost');
    assert.equal(parsed.localConfig, h.dirs.localConfig);
    assert.deepEqual(parsed.dnsConfMode, { resolv: 'stage0', hosts: 'stage0' });
    assert.equal(parsed.disableCapabilities, true);
    assert.equal(parsed.disableSeccomp, true);
    assert.equal(parsed.disablePaths, false);
    assert.equal(argv[argv.length - 1], uuid, 'uuid is the last word');
    const resolv = await fs.readFile(path.join(podDir, 'stage1/rootfs/etc/rkt-resolv.conf'), 'utf8');
    assert.match(resolv, /^nameserver 10\.0\.0\.53$/m);
    assert.match(resolv, /^search example\.org$/m);
    assert.match(await fs.readFile(path.join(podDir, 'stage1/rootfs/etc/rkt-hosts'), 'utf8'), /^10\.1\.1\.1 db$/m);

    const env = kv(await fs.readFile(path.join(podDir, 'stub-run-env'), 'utf8'));
    assert.equal(env.get('cwd'), podDir);
    assert.match(env.get('lockfd') ?? '', /^[0-9]+$/);
    assert.equal(env.get('lockfd-target'), podDir, 'RKT_LOCK_FD names the pod directory');
    for (const fd of ['fd1', 'fd2']) {
      const flags = env.get(`${fd}-flags`) ?? '';
      assert.notEqual(flags, '', `${fd} is open in the stage1`);
      assert.equal(parseInt(flags, 8) & 0o4000, 0, `${fd} is not O_NONBLOCK`);
    }
    // The stage1's parent is the test runner: rkt replaced itself, no Node process in between.
    assert.notEqual(env.get('ppid-comm'), 'rkt');
  });
});

test('older interface versions: flags dropped with a warning', async () => {
  await withHarness(async (h) => {
    const v1 = await h.stubVariant('stub-v1', { interfaceVersion: null });
    const img = await h.image('old', ['/bin/true']);
    const uuidFile = path.join(h.dirs.root, 'uuid');
    const r = await h.rkt(['run', `--stage1-path=${v1}`, `--uuid-file-save=${uuidFile}`, '--hostname=h1', img]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /--hostname option is not supported by stage1/);
    const uuid = (await fs.readFile(uuidFile, 'utf8')).trim();
    const argv = (await fs.readFile(path.join(h.podDir('run', uuid), 'stub-run-args'), 'utf8')).trim().split('\n');
    assert.ok(!argv.some((a) => a.startsWith('--hostname')));
  });
});

test('enter: runs in the app of a running pod; refuses an exited pod; stop entrypoint missing', async () => {
  await withHarness(async (h) => {
    const img = await h.image('svc', ['/bin/sleep', '1000'], { files: { 'etc/marker': 'inside-the-app\n' } });
    const uuidFile = path.join(h.dirs.root, 'uuid');
    const child = h.spawn(['run', ...h.stage1Flags(), `--uuid-file-save=${uuidFile}`, img]);
    let uuid = '';
    for (let i = 0; i < 600 && uuid === ''; i++) {
      uuid = (await fs.readFile(uuidFile, 'utf8').catch(() => '')).trim();
      if (uuid === '') await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal((await h.rkt(['status', '--wait-ready=60s', uuid])).exitCode, 0);
    const e = await h.rkt(['enter', uuid, '/bin/cat', '/etc/marker']);
    assert.equal(e.exitCode, 0, e.stderr);
    assert.equal(e.stdout, 'inside-the-app\n');
    const enterArgs = (await fs.readFile(path.join(h.podDir('run', uuid), 'stub-enter-args'), 'utf8')).trim().split('\n');
    assert.match(enterArgs[0] ?? '', /^--pid=[1-9][0-9]*$/);
    assert.deepEqual(enterArgs.slice(1), ['--appname=svc', '--', '/bin/cat', '/etc/marker']);
    const code = await h.rkt(['enter', '--app=svc', uuid, '/bin/sh', '-c', 'exit 7']);
    assert.equal(code.exitCode, 7);
    const dflt = await h.rkt(['enter', uuid], { input: 'echo via-default-shell\n' });
    assert.match(dflt.stderr, /no command specified, assuming "\/bin\/sh"/);
    assert.match(dflt.stdout, /via-default-shell/);
    const noApp = await h.rkt(['enter', '--app=nope', uuid, '/bin/true']);
    assert.equal(noApp.exitCode, 254);

    const rp = await h.rkt(['run-prepared', uuid]);
    assert.equal(rp.exitCode, 254);
    assert.match(rp.stderr, /it is running, only a prepared pod can be run/);

    assert.equal((await h.rkt(['stop', '--force', uuid])).exitCode, 0);
    const done = await child;
    assert.equal(done.exitCode, 137);
    const exitedEnter = await h.rkt(['enter', uuid, '/bin/true']);
    assert.equal(exitedEnter.exitCode, 254);
    assert.match(exitedEnter.stderr, /cannot enter pod .*: it is exited, not running/);
  });
});

test('a stage1 without a stop entrypoint: clear error, pod untouched', async () => {
  await withHarness(async (h) => {
    const noStop = await h.stubVariant('stub-nostop', { omit: ['stop'] });
    const img = await h.image('nostop', ['/bin/sleep', '1000']);
    const uuidFile = path.join(h.dirs.root, 'uuid');
    const child = h.spawn(['run', `--stage1-path=${noStop}`, `--uuid-file-save=${uuidFile}`, img]);
    let uuid = '';
    for (let i = 0; i < 600 && uuid === ''; i++) {
      uuid = (await fs.readFile(uuidFile, 'utf8').catch(() => '')).trim();
      if (uuid === '') await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal((await h.rkt(['status', '--wait-ready=60s', uuid])).exitCode, 0);
    const s = await h.rkt(['stop', uuid]);
    assert.equal(s.exitCode, 254);
    assert.match(s.stderr, /has no "stop" entrypoint/);
    const st = await h.rkt(['status', uuid]);
    assert.match(st.stdout, /^state=running$/m);
    await killProcessesUnder(h.dirs.root);
    await child;
  });
});

test('enter: several apps and no --app lists them and fails', async () => {
  await withHarness(async (h) => {
    const img = await h.image('multi', ['/bin/sleep', '1000']);
    const uuidFile = path.join(h.dirs.root, 'uuid');
    const child = h.spawn(['run', ...h.stage1Flags(), `--uuid-file-save=${uuidFile}`, img, '--name=first', img, '--name=second']);
    let uuid = '';
    for (let i = 0; i < 600 && uuid === ''; i++) {
      uuid = (await fs.readFile(uuidFile, 'utf8').catch(() => '')).trim();
      if (uuid === '') await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal((await h.rkt(['status', '--wait-ready=60s', uuid])).exitCode, 0);
    const e = await h.rkt(['enter', uuid, '/bin/true']);
    assert.equal(e.exitCode, 254);
    assert.match(e.stderr, /^enter: {3}first$/m);
    assert.match(e.stderr, /^enter: {3}second$/m);
    assert.match(e.stderr, /has 2 apps: say which to enter with --app=NAME/);
    const second = await h.rkt(['enter', '--app=second', uuid, '/bin/sh', '-c', 'echo in-second']);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.equal(second.stdout, 'in-second\n');
    await killProcessesUnder(h.dirs.root);
    await child;
  });
});

test('a stage1 without a run entrypoint: run fails cleanly, mounts undone, pod in garbage', async () => {
  await withHarness(async (h) => {
    const noRun = await h.stubVariant('stub-norun', { omit: ['run'] });
    const img = await h.image('norun', ['/bin/true']);
    const r = await h.rkt(['run', `--stage1-path=${noRun}`, img]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /has no "run" entrypoint/);
    const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(h.dirs.dir), 'overlays unmounted');
    const garbage = await fs.readdir(path.join(h.dirs.dir, 'pods', 'garbage'));
    assert.equal(garbage.length, 1);
    assert.deepEqual(await fs.readdir(path.join(h.dirs.dir, 'pods', 'run')), []);
    const gc = await h.rkt(['gc']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.deepEqual(await fs.readdir(path.join(h.dirs.dir, 'pods', 'garbage')), []);
  });
});
