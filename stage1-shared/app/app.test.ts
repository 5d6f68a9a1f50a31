// The app entrypoints without a pod: argv and verb dispatch, the stop script against a fake systemctl, and
// add/start/stop/rm on a pod directory laid out by hand with a flavor whose "pod" answers from a script,
// including the undo of a failed add and rm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { appStartedPath, appStatusPath, podManifestNextPath, podManifestPath, stage1RootfsPath } from '../../common/pod-layout.js';
import type { FlavorTraits } from '../flavor-traits.js';
import { readStage1Record, writeStage1Record, type FlavorRecordCodec } from '../record/stage1-record.js';
import { runAppVerb, appEntrypointName, parseAppVerb } from './dispatch.js';
import type { AppFlavor, PodExecResult } from './flavor.js';
import { nextStartCount } from './commands.js';
import { describeArgv, isRunningState, parseStartOutcome, parseStopOutcome, START_SCRIPT, STOP_SCRIPT, stopArgv } from './pod-commands.js';
import { PodRootChange } from './root-change.js';

const run = promisify(execFile);
const UUID = '11111111-2222-4333-8444-555555555555';

test('verbs: the wrappers pass add|rm|start|stop|stats|update first; anything else is a usage error', async () => {
  assert.equal(parseAppVerb('add'), 'add');
  assert.throws(() => parseAppVerb('restart'), /expected one of add, rm, start, stop, stats, update first, got "restart"/);
  assert.throws(() => parseAppVerb(undefined), /got ""/);
  assert.equal(appEntrypointName(['stop', '--app=a', UUID]), 'app-stop');
  assert.equal(appEntrypointName(['--app=a']), 'app');
  // the contract's argv follows the verb; --timeout is app/stop's alone
  await assert.rejects(runAppVerb(fakeFlavor(() => ok('')), ['start', '--app=a', '--timeout=3', UUID], '/nonexistent'), /unknown flag --timeout/);
  await assert.rejects(runAppVerb(fakeFlavor(() => ok('')), ['start', '--app=Bad_Name', UUID], '/nonexistent'), /expected an app name/);
});

test('pod command helpers: running states, stop outcomes, start counts', () => {
  for (const s of ['active', 'activating\n', 'deactivating', 'reloading']) assert.equal(isRunningState(s), true, s);
  for (const s of ['inactive', 'failed', '', 'unknown']) assert.equal(isRunningState(s), false, s);
  assert.equal(parseStopOutcome('x\nstopped\n'), 'stopped');
  assert.equal(parseStopOutcome('garbage'), undefined);
  assert.equal(parseStartOutcome('ran\n'), 'ran');
  assert.equal(nextStartCount(undefined), 1);
  assert.equal(nextStartCount('2\n'), 3);
  assert.equal(nextStartCount('junk'), 1);
  assert.equal(describeArgv(stopArgv('app-a.service', 5, 'rkt-reaper@a.service')), '/bin/sh -c <script> app-a.service 5 rkt-reaper@a.service');
});

/**
 * A fake systemctl over a state file: `kill` with SIGTERM takes the unit down only when the app "honours"
 * it, SIGKILL always does; every call is logged.
 */
async function fakeSystemctl(dir: string, honoursTerm: boolean): Promise<string> {
  const bin = path.join(dir, 'bin');
  await fs.mkdir(bin, { recursive: true });
  await fs.writeFile(path.join(bin, 'systemctl'), `#!/bin/sh
echo "$*" >> "${dir}/log"
case "$1" in
  is-active) cat "${dir}/state" ;;
  show) echo 15 ;;
  kill) case "$2" in --signal=15) ${honoursTerm ? `echo inactive > "${dir}/state"` : ':'} ;; --signal=9) echo failed > "${dir}/state" ;; esac ;;
esac
`, { mode: 0o755 });
  return bin;
}

async function stopScript(dir: string, bin: string, state: string, timeout: number): Promise<{ out: string; log: string; ms: number }> {
  await fs.writeFile(path.join(dir, 'state'), `${state}\n`);
  await fs.rm(path.join(dir, 'log'), { force: true });
  const script = STOP_SCRIPT.replace('PATH=/usr/sbin', `PATH=${bin}:/usr/sbin`);
  const t0 = Date.now();
  const r = await run('/bin/sh', ['-c', script, 'sh', 'app-a.service', String(timeout)]);
  const log = await fs.readFile(path.join(dir, 'log'), 'utf8').catch(() => '');
  return { out: r.stdout.trim(), log, ms: Date.now() - t0 };
}

test('stop script: the unit\'s KillSignal, SIGKILL only after the timeout, nothing for a stopped unit', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'app-stop-'));
  try {
    const polite = await fakeSystemctl(path.join(dir, 'p'), true);
    let r = await stopScript(path.join(dir, 'p'), polite, 'active', 10);
    assert.equal(r.out, 'stopped');
    assert.match(r.log, /show -P KillSignal app-a.service\nkill --signal=15 app-a.service/);
    assert.doesNotMatch(r.log, /--signal=9/);
    r = await stopScript(path.join(dir, 'p'), polite, 'inactive', 10);
    assert.equal(r.out, 'not-running');
    assert.doesNotMatch(r.log, /kill/);

    const stubborn = await fakeSystemctl(path.join(dir, 's'), false);
    r = await stopScript(path.join(dir, 's'), stubborn, 'active', 1);
    assert.equal(r.out, 'killed');
    assert.match(r.log, /--signal=15[\s\S]*--signal=9/);
    assert.ok(r.ms >= 1000, `SIGKILL came after ${r.ms} ms, before the 1 s timeout`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

/** A fake systemctl whose start fails, after spawning the main process (or not) that ended with `status`. */
async function fakeFailingStart(dir: string, spawned: boolean, status: number): Promise<string> {
  const bin = path.join(dir, 'bin');
  await fs.mkdir(bin, { recursive: true });
  await fs.writeFile(path.join(dir, 'mono'), '100\n');
  await fs.writeFile(path.join(bin, 'systemctl'), `#!/bin/sh
case "$1 $3" in
  "show ExecMainStartTimestampMonotonic") cat "${dir}/mono" ;;
  "show ExecMainCode") echo 1 ;;
  "show ExecMainStatus") echo ${status} ;;
  "start "*) ${spawned ? `echo 200 > "${dir}/mono"` : ':'}; echo "Job for $2 failed." >&2; exit 1 ;;
esac
`, { mode: 0o755 });
  return bin;
}

test('start script: an app that ran and exited at once is started; a spawn failure or a main process never spawned is not', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'app-start-'));
  try {
    const cases: Array<[boolean, number, string]> = [[true, 5, 'ran'], [true, 203, 'failed'], [false, 0, 'failed']];
    for (const [spawned, status, want] of cases) {
      const d = path.join(dir, `${spawned}-${status}`);
      const bin = await fakeFailingStart(d, spawned, status);
      const script = START_SCRIPT.replace('PATH=/usr/sbin', `PATH=${bin}:/usr/sbin`);
      const r = await run('/bin/sh', ['-c', script, 'sh', 'app-a.service']).then((x) => ({ out: x.stdout, code: 0 }), (e: { stdout: string; code: number }) => ({ out: e.stdout, code: e.code }));
      assert.equal(parseStartOutcome(r.out), want, `spawned=${spawned} status=${status}`);
      assert.equal(r.code === 0, want === 'ran');
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('root change: rollback restores changed files and owners, removes new ones and the directories made for them', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'app-root-'));
  try {
    await fs.mkdir(path.join(root, 'etc'));
    await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\n', { mode: 0o644 });
    const ch = new PodRootChange(root);
    await ch.remember('etc/passwd');
    await ch.remember('rkt/env/a');
    await fs.appendFile(path.join(root, 'etc/passwd'), 'rkt-uid-7:x:7:7::/:/usr/sbin/nologin\n');
    await fs.mkdir(path.join(root, 'rkt/env'), { recursive: true });
    await fs.writeFile(path.join(root, 'rkt/env/a'), 'X=1\n');
    assert.deepEqual(ch.touched().sort(), ['etc/passwd', 'rkt', 'rkt/env/a']);
    await ch.rollback();
    assert.equal(await fs.readFile(path.join(root, 'etc/passwd'), 'utf8'), 'root:x:0:0::/:/bin/sh\n');
    await assert.rejects(fs.access(path.join(root, 'rkt')));
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- the commands on a hand-made pod

type PodAnswer = (argv: readonly string[]) => PodExecResult;

const ok = (stdout: string): PodExecResult => ({ code: 0, stdout, stderr: '' });
const codec: FlavorRecordCodec<Record<string, never>> = { flavor: 'test', parseState: () => ({}) };
const traits: FlavorTraits<Record<string, never>> = { record: codec, volumePath: (v) => `/rkt/volumes/${v}` };

function fakeFlavor(answer: PodAnswer, calls: string[] = []): AppFlavor<Record<string, never>> {
  return {
    traits,
    execInPod: async (_d, _r, argv) => {
      calls.push(describeArgv(argv));
      return answer(argv);
    },
    diskShift: () => undefined,
  };
}

const IMAGE_ID = `sha512-${'a'.repeat(128)}`;

function podJson(apps: string[]): string {
  return JSON.stringify({ acKind: 'PodManifest', acVersion: '0.8.11', apps: apps.map((name) => ({ name, image: { id: IMAGE_ID } })) });
}

async function makePod(): Promise<string> {
  const podDir = await fs.mkdtemp(path.join(os.tmpdir(), 'app-pod-'));
  const root = stage1RootfsPath(podDir);
  const tree = path.join(root, 'opt/stage2/a/rootfs');
  await fs.mkdir(path.join(tree, 'bin'), { recursive: true });
  await fs.writeFile(path.join(tree, 'bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
  await fs.writeFile(path.join(root, 'opt/stage2/a/manifest'), JSON.stringify({
    acKind: 'ImageManifest', acVersion: '0.8.11', name: 'example.com/a',
    app: { exec: ['/bin/tool'], user: '0', group: '0', isolators: [{ name: 'resource/memory', value: { limit: '64Mi' } }] },
  }));
  await fs.mkdir(path.join(root, 'etc/systemd/system'), { recursive: true });
  await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\n');
  await fs.writeFile(path.join(root, 'etc/group'), 'root:x:0:\n');
  await fs.writeFile(podManifestPath(podDir), podJson([]));
  await fs.writeFile(podManifestNextPath(podDir), podJson(['a']));
  await writeStage1Record(podDir, codec, {
    flavor: 'test', apps: {}, flavorState: {},
    runtime: { hostname: 'h', mutable: true, diskShift: 0, disableCapabilities: false, disablePaths: false, disableSeccomp: false, podEtc: { binds: [] } },
  });
  return podDir;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}

test('add writes the unit, env and slice and the enter profile, then reloads; start counts; rm takes them away again', async () => {
  const podDir = await makePod();
  const root = stage1RootfsPath(podDir);
  try {
    let state = 'inactive';
    const calls: string[] = [];
    const flavor = fakeFlavor((argv) => {
      if (argv[1] === 'is-active') return { code: 3, stdout: `${state}\n`, stderr: '' };
      return ok(argv[2] === START_SCRIPT ? 'started\n' : '');
    }, calls);
    await runAppVerb(flavor, ['add', '--app=a', UUID], podDir);
    const unit = await fs.readFile(path.join(root, 'etc/systemd/system/app-a.service'), 'utf8');
    assert.match(unit, /ExecStart=\/bin\/tool/);
    assert.ok(await exists(path.join(root, 'etc/systemd/system/app-a.slice')), 'the memory limit gets a slice');
    assert.ok(await exists(path.join(root, 'rkt/env/a')));
    assert.ok((await readStage1Record(podDir, codec))?.apps['a'], 'enter profile recorded');
    assert.deepEqual(calls, ['/usr/bin/systemctl is-active app-a.service', '/usr/bin/systemctl daemon-reload']);

    // what stage0 does once add succeeded
    await fs.rename(podManifestNextPath(podDir), podManifestPath(podDir));
    await assert.rejects(runAppVerb(flavor, ['start', '--app=nope', UUID], podDir), /has no app "nope"/);
    await fs.mkdir(path.dirname(appStatusPath(podDir, 'a')), { recursive: true });
    await fs.writeFile(appStatusPath(podDir, 'a'), '3\n');
    await runAppVerb(flavor, ['start', '--app=a', UUID], podDir);
    await runAppVerb(flavor, ['start', '--app=a', UUID], podDir);
    assert.equal(await fs.readFile(appStartedPath(podDir, 'a'), 'utf8'), '2\n');
    assert.ok(!(await exists(appStatusPath(podDir, 'a'))), 'a start clears the last exit status');
    assert.ok(calls.includes('/bin/sh -c <script> app-a.service'));

    state = 'active';
    await assert.rejects(runAppVerb(flavor, ['start', '--app=a', UUID], podDir), /already running/);
    await assert.rejects(runAppVerb(flavor, ['rm', '--app=a', UUID], podDir), /it is running/);
    state = 'inactive';
    await runAppVerb(flavor, ['rm', '--app=a', UUID], podDir);
    for (const f of ['etc/systemd/system/app-a.service', 'etc/systemd/system/app-a.slice', 'rkt/env/a', 'rkt/started/a']) {
      assert.ok(!(await exists(path.join(root, f))), `${f} removed`);
    }
    assert.equal((await readStage1Record(podDir, codec))?.apps['a'], undefined);
  } finally {
    await fs.rm(podDir, { recursive: true, force: true });
  }
});

test('a failed add leaves no unit, no accounts and no profile; a failed start names the unit\'s error', async () => {
  const podDir = await makePod();
  const root = stage1RootfsPath(podDir);
  try {
    const manifest = path.join(root, 'opt/stage2/a/manifest');
    await fs.writeFile(manifest, (await fs.readFile(manifest, 'utf8')).replace('"user":"0"', '"user":"4242"'));
    const failingReload = fakeFlavor((argv) => (argv[1] === 'daemon-reload' ? { code: 1, stdout: '', stderr: 'Failed to reload daemon: boom\n' } : { code: 3, stdout: 'inactive', stderr: '' }));
    await assert.rejects(runAppVerb(failingReload, ['add', '--app=a', UUID], podDir), /daemon-reload in the pod failed: Failed to reload daemon: boom/);
    assert.ok(!(await exists(path.join(root, 'etc/systemd/system/app-a.service'))));
    assert.ok(!(await exists(path.join(root, 'rkt/env'))));
    assert.equal(await fs.readFile(path.join(root, 'etc/passwd'), 'utf8'), 'root:x:0:0::/:/bin/sh\n');
    assert.deepEqual((await readStage1Record(podDir, codec))?.apps, {});

    const fine = fakeFlavor((argv) => (argv[1] === 'is-active' ? { code: 3, stdout: 'inactive', stderr: '' } : ok('')));
    await runAppVerb(fine, ['add', '--app=a', UUID], podDir);
    assert.match(await fs.readFile(path.join(root, 'etc/passwd'), 'utf8'), /rkt-uid-4242/);
    await fs.rename(podManifestNextPath(podDir), podManifestPath(podDir));
    const noStart = fakeFlavor((argv) => {
      if (argv[1] === 'is-active') return { code: 3, stdout: 'inactive', stderr: '' };
      if (argv[2] === START_SCRIPT) {
        void fs.writeFile(appStatusPath(podDir, 'a'), '254\n');
        return { code: 1, stdout: 'failed\n', stderr: 'Job for app-a.service failed because the control process exited with error code.\n' };
      }
      return ok('');
    });
    await fs.mkdir(path.dirname(appStatusPath(podDir, 'a')), { recursive: true });
    await assert.rejects(runAppVerb(noStart, ['start', '--app=a', UUID], podDir), /app "a" failed to start: Job for app-a.service failed/);
    assert.equal(await fs.readFile(appStartedPath(podDir, 'a'), 'utf8'), '1\n', 'a failed start still counts: the reaper records that run');
  } finally {
    await fs.rm(podDir, { recursive: true, force: true });
  }
});

test('refusals: an app not in pod.next, one already in the pod, a pod that is not mutable', async () => {
  const podDir = await makePod();
  try {
    const flavor = fakeFlavor(() => ({ code: 3, stdout: 'inactive', stderr: '' }));
    await assert.rejects(runAppVerb(flavor, ['add', '--app=b', UUID], podDir), /does not name app "b"/);
    await fs.writeFile(podManifestPath(podDir), podJson(['a']));
    await assert.rejects(runAppVerb(flavor, ['add', '--app=a', UUID], podDir), /already has an app named "a"/);
    await runAppVerb(flavor, ['stop', '--app=a', UUID], podDir).then(
      () => assert.fail('stop of an app without a profile must fail'),
      (err: Error) => assert.match(err.message, /has no app "a"/),
    );
    const rec = await readStage1Record(podDir, codec);
    if (rec === undefined) throw new Error('no record');
    await writeStage1Record(podDir, codec, { ...rec, runtime: { ...rec.runtime, mutable: false } });
    await assert.rejects(runAppVerb(flavor, ['add', '--app=a', UUID], podDir), /is not a mutable pod/);
  } finally {
    await fs.rm(podDir, { recursive: true, force: true });
  }
});
