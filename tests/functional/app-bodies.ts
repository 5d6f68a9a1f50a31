// Mutable pods (`rkt app ...`), one body per behaviour for both stage1s: app-mutable.test.ts runs each
// body with the nspawn and the kvm harness.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describeLeaks, settledLeaks, snapshotHost } from '../harness/leak-check.js';
import { journalMessages, mountsUnder, processesIn, type NspawnHarness } from './nspawn-helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Sandbox {
  uuid: string;
  dir: string;
  done: Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/** `rkt app sandbox` in the background; resolves once the pod is ready (booted, no apps). A TCG guest on a busy host can take minutes to boot: waiting longer costs nothing when it is ready sooner. */
export async function startSandbox(h: NspawnHarness, aci: string, args: readonly string[] = [], readyTimeout = '300s'): Promise<Sandbox> {
  const f = path.join(h.dirs.root, `sandbox-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  const child = h.spawn(['app', 'sandbox', `--stage1-path=${aci}`, `--uuid-file-save=${f}`, ...args]);
  const done = child.then((r) => ({ exitCode: r.exitCode ?? 254, stdout: String(r.stdout), stderr: String(r.stderr) }));
  const read = (): string => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : '');
  for (let i = 0; i < 600 && !UUID.test(read()); i++) await new Promise((r) => setTimeout(r, 100));
  const uuid = read();
  assert.match(uuid, UUID, 'the sandbox got no uuid');
  const ready = await h.rkt(['status', `--wait-ready=${readyTimeout}`, uuid]);
  assert.equal(ready.exitCode, 0, `sandbox not ready: ${ready.stderr}`);
  return { uuid, dir: h.podDir('run', uuid), done };
}

async function appStatus(h: NspawnHarness, uuid: string, app: string): Promise<Record<string, unknown>> {
  const r = await h.rkt(['app', 'status', uuid, `--app=${app}`, '--format=json']);
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function waitAppState(h: NspawnHarness, uuid: string, app: string, state: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await appStatus(h, uuid, app);
    if (s['state'] === state) return s;
    if (Date.now() > deadline) assert.fail(`app ${app} stayed ${String(s['state'])}, expected ${state}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ok(h: NspawnHarness, args: string[]): Promise<string> {
  // --debug: should it fail (or hang until the harness kills it), its trail says which step and how long each took
  const r = await h.rkt(['--debug', ...args]);
  assert.equal(r.exitCode, 0, `rkt ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A refused command: exit 254 (2 for a usage error), one line on stderr naming `pattern`. */
async function refused(h: NspawnHarness, args: string[], pattern: RegExp, exitCode = 254): Promise<void> {
  const r = await h.rkt(args);
  assert.equal(r.exitCode, exitCode, `rkt ${args.join(' ')} should fail: ${r.stdout} ${r.stderr}`);
  assert.match(r.stderr, pattern);
}

/**
 * The whole life of a sandbox: add two apps (one bringing host volumes), start them, enter one, stop it (exit code recorded), restart
 * it (its tree kept, a second journal run), remove it, add another, bad input refused with the pod unharmed,
 * stop the pod, gc, nothing left on the host.
 */
export async function sandboxLifecycleBody(h: NspawnHarness, aci: string): Promise<void> {
  const before = await snapshotHost();
  const ours = new Set<string>();
  const loop = await h.image('looper', ['/bin/sh', '-c', 'echo looper-started; trap "echo looper-got-term; exit 3" TERM; while true; do sleep 0.1; done']);
  const once = await h.image('once', ['/bin/sh', '-c', 'echo once-ran; exit 5']);
  const sb = await startSandbox(h, aci);
  ours.add(sb.uuid);
  const { uuid } = sb;
  assert.equal((await ok(h, ['app', 'list', '--no-legend', uuid])).trim(), '');

  // app a brings two host volumes: one through a symlink, read-write; one read-only
  const data = path.join(h.dirs.root, 'host-data');
  const conf = path.join(h.dirs.root, 'host-conf');
  fs.mkdirSync(data);
  fs.mkdirSync(conf);
  fs.writeFileSync(path.join(conf, 'setting'), 'from-the-host\n');
  fs.symlinkSync(data, `${data}-link`);
  await refused(h, ['app', 'add', uuid, loop, '--name=a', `--mnt-volume=name=data,kind=host,source=${data}-missing,target=/data`], /volume "data": source .*-missing: ENOENT/);
  await ok(h, ['app', 'add', uuid, loop, '--name=a', `--mnt-volume=name=data,kind=host,source=${data}-link,target=/data`,
    `--mnt-volume=name=conf,kind=host,source=${conf},target=/etc/conf,readOnly=true`]);
  await refused(h, ['app', 'add', uuid, once, '--name=x', `--mnt-volume=name=data,kind=host,source=${conf},target=/d`], /already has a volume named "data"/);
  await ok(h, ['app', 'add', uuid, once, '--name=b', '--environment=GREETING=hi']);
  assert.match(await ok(h, ['app', 'list', uuid]), /^NAME\s+STATE\na\s+created\nb\s+created\n$/);
  const manifest = JSON.parse(await ok(h, ['cat-manifest', uuid])) as { apps: { name: string }[] };
  assert.deepEqual(manifest.apps.map((a) => a.name), ['a', 'b']);

  await ok(h, ['app', 'start', uuid, '--app=a']);
  await ok(h, ['app', 'start', uuid, '--app=b']);
  const b = await waitAppState(h, uuid, 'b', 'exited');
  assert.equal(b['exit_code'], 5);
  await waitAppState(h, uuid, 'a', 'running');
  // the pod keeps running although an app exited
  assert.match(await ok(h, ['status', uuid]), /state=running/);

  const entered = await h.rkt(['enter', '--app=a', uuid, '/bin/sh', '-c', 'echo entered-a; touch /kept-across-restarts']);
  assert.equal(entered.exitCode, 0, entered.stderr);
  assert.match(entered.stdout, /entered-a/);
  const vols = await h.rkt(['enter', '--app=a', uuid, '/bin/sh', '-c',
    'cat /etc/conf/setting; echo from-the-app > /data/out; if touch /etc/conf/x 2>/dev/null; then echo conf-writable; else echo conf-read-only; fi']);
  assert.equal(vols.exitCode, 0, vols.stderr);
  assert.match(vols.stdout, /from-the-host\nconf-read-only/, vols.stdout);
  assert.equal(fs.readFileSync(path.join(data, 'out'), 'utf8'), 'from-the-app\n');

  await refused(h, ['app', 'start', uuid, '--app=a'], /already running/);
  await refused(h, ['app', 'rm', uuid, '--app=a'], /running.*stop it first|is running/);
  await ok(h, ['app', 'stop', uuid, '--app=a']);
  const a1 = await waitAppState(h, uuid, 'a', 'exited');
  assert.equal(a1['exit_code'], 3, JSON.stringify(a1));

  await ok(h, ['app', 'start', uuid, '--app=a']);
  await waitAppState(h, uuid, 'a', 'running');
  const kept = await h.rkt(['enter', '--app=a', uuid, '/bin/sh', '-c', 'test -e /kept-across-restarts && echo tree-kept']);
  assert.match(kept.stdout, /tree-kept/, kept.stderr);
  const a2 = await appStatus(h, uuid, 'a');
  assert.equal(a2['starts'], 2);
  assert.equal((a2['runs'] as unknown[]).length, 1);
  await ok(h, ['app', 'stop', uuid, '--app=a', '--timeout=5']);
  await waitAppState(h, uuid, 'a', 'exited');
  const journal = await journalMessages(sb.dir, uuid, 'a');
  assert.equal(journal.filter((l) => l === 'looper-started').length, 2, journal.join('\n'));

  await ok(h, ['app', 'rm', uuid, '--app=a']);
  assert.ok(!fs.existsSync(path.join(sb.dir, 'stage1/rootfs/opt/stage2/a')), 'the removed app\'s tree is gone');
  assert.match(await ok(h, ['app', 'list', uuid]), /^NAME\s+STATE\nb\s+exited\n$/);
  await refused(h, ['enter', '--app=a', uuid, '/bin/true'], /no app "a"/);

  const again = await h.image('again', ['/bin/sh', '-c', 'echo again-ran; exit 0']);
  await ok(h, ['app', 'add', uuid, again, '--name=c']);
  await ok(h, ['app', 'start', uuid, '--app=c']);
  assert.equal((await waitAppState(h, uuid, 'c', 'exited'))['exit_code'], 0);

  // bad input: one line, 254, the pod unharmed
  await refused(h, ['app', 'add', uuid, again, '--name=b'], /already has an app named "b"/);
  await refused(h, ['app', 'start', uuid, '--app=nope'], /no app "nope"/);
  await refused(h, ['app', 'rm', uuid, '--app=nope'], /no app "nope"/);
  await refused(h, ['app', 'add', uuid, path.join(h.dirs.root, 'missing.aci')], /missing\.aci/);
  await refused(h, ['app', 'add', '00000000-0000-4000-8000-000000000000', again], /no pod/);
  assert.match(await ok(h, ['app', 'list', uuid]), /^NAME\s+STATE\nb\s+exited\nc\s+exited\n$/);

  await ok(h, ['stop', uuid]);
  const end = await sb.done;
  assert.notEqual(end.exitCode, 254, end.stderr);
  await refused(h, ['app', 'add', uuid, again, '--name=d'], /not running/);
  await ok(h, ['gc', '--grace-period=0s']);
  assert.deepEqual(mountsUnder(sb.dir), []);
  assert.deepEqual(processesIn(sb.dir), []);
  // removing the pod unmounted its volumes first: the host's files are all there
  assert.deepEqual([fs.readFileSync(path.join(data, 'out'), 'utf8'), fs.readFileSync(path.join(conf, 'setting'), 'utf8')], ['from-the-app\n', 'from-the-host\n']);
  const report = await settledLeaks(before, ours);
  assert.deepEqual(report, { leaked: [], vanished: [] }, describeLeaks(report));
}

/**
 * Two adds at once are serialised by the pod's app lock (both land, or the second name clash is refused);
 * an add killed half-way leaves no half-added app, and the next command finishes the cleanup.
 */
export async function sandboxConcurrencyBody(h: NspawnHarness, aci: string): Promise<void> {
  const img = await h.image('conc', ['/bin/sh', '-c', 'echo conc-ran']);
  const sb = await startSandbox(h, aci);
  const { uuid } = sb;
  try {
    const [x, y] = await Promise.all([h.rkt(['app', 'add', uuid, img, '--name=x']), h.rkt(['app', 'add', uuid, img, '--name=y'])]);
    assert.equal(x.exitCode, 0, x.stderr);
    assert.equal(y.exitCode, 0, y.stderr);
    const [s1, s2] = await Promise.all([h.rkt(['app', 'add', uuid, img, '--name=z']), h.rkt(['app', 'add', uuid, img, '--name=z'])]);
    assert.deepEqual([s1.exitCode, s2.exitCode].sort(), [0, 254], `${s1.stderr} ${s2.stderr}`);
    assert.match(s1.exitCode === 254 ? s1.stderr : s2.stderr, /already has an app named "z"/);

    // A killed add: whatever it got to, the pod has the app entirely or not at all.
    const child = h.spawn(['app', 'add', uuid, img, '--name=killed']);
    await new Promise((r) => setTimeout(r, 400));
    child.kill('SIGKILL');
    await child.catch(() => undefined);
    // What a crash between the copy and the commit leaves, made by hand so it is there whatever the timing.
    fs.mkdirSync(path.join(sb.dir, 'stage1/rootfs/opt/stage2/ghost/rootfs'), { recursive: true });
    fs.writeFileSync(path.join(sb.dir, 'pod.next'), '{}');
    await ok(h, ['app', 'add', uuid, img, '--name=w']);
    assert.ok(!fs.existsSync(path.join(sb.dir, 'pod.next')), 'a stale pod.next is removed');
    assert.ok(!fs.existsSync(path.join(sb.dir, 'stage1/rootfs/opt/stage2/ghost')), 'a tree the manifest does not name is removed');
    const names = (await ok(h, ['app', 'list', '--no-legend', uuid])).trim().split('\n').map((l) => l.split(/\s+/)[0]);
    for (const n of ['x', 'y', 'z', 'w']) assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
    if (!names.includes('killed')) assert.ok(!fs.existsSync(path.join(sb.dir, 'stage1/rootfs/opt/stage2/killed')));
    await ok(h, ['app', 'start', uuid, '--app=w']);
    assert.equal((await waitAppState(h, uuid, 'w', 'exited'))['exit_code'], 0);
  } finally {
    await h.rkt(['stop', uuid]);
    await sb.done;
  }
}

/** A sandbox refuses what only an ordinary pod takes, and an ordinary pod refuses app changes. */
export async function notMutableBody(h: NspawnHarness, aci: string): Promise<void> {
  const img = await h.image('plain', ['/bin/sh', '-c', 'sleep 30']);
  const pod = await h.startPod([img]);
  try {
    await refused(h, ['app', 'add', pod.uuid, img, '--name=more'], /not a mutable pod/);
    await refused(h, ['app', 'stop', pod.uuid, '--app=plain'], /not a mutable pod/);
  } finally {
    await h.rkt(['stop', '--force', pod.uuid]);
    await pod.done;
  }
  const r = await h.rkt(['app', 'sandbox', `--stage1-path=${aci}`, img]);
  assert.equal(r.exitCode, 2, r.stderr);
  assert.match(r.stderr, /takes no images/);
}

/**
 * rkt attach: an app started with --stdin=stream --stdin-once reads what the attach writes and gets EOF when
 * that input ends (rkt attach then exits with the app's code); without --stdin-once the app's stdin outlives an
 * attach; output-only apps and bad modes are refused, the pod unharmed.
 */
export async function attachBody(h: NspawnHarness, aci: string): Promise<void> {
  const sh = await h.image('shell', ['/bin/sh']);
  const sb = await startSandbox(h, aci);
  const { uuid } = sb;
  await refused(h, ['app', 'add', uuid, sh, '--name=x', '--stdin-once'], /--stdin-once needs --stdin=stream/, 2);
  await ok(h, ['app', 'add', uuid, sh, '--name=once', '--stdin=stream', '--stdin-once']);
  await ok(h, ['app', 'add', uuid, sh, '--name=keep', '--stdin=stream']);
  // an app without --stdin=stream, never started (a kvm guest starts apps slowly: two are enough)
  await ok(h, ['app', 'add', uuid, sh, '--name=plain']);
  await refused(h, ['attach', '--app=plain', uuid], /app "plain" of pod .* is created, not running/);
  for (const app of ['once', 'keep']) await ok(h, ['app', 'start', uuid, `--app=${app}`]);
  assert.equal(await ok(h, ['attach', '--app=once', '--mode=list', uuid]), 'stdin\nstdout\nstderr\n');
  assert.equal(await ok(h, ['attach', '--app=plain', '--mode=list', uuid]), 'stdout\nstderr\n');
  await refused(h, ['attach', '--app=plain', '--mode=stdin', uuid], /app "plain" has no attachable stdin/);
  await refused(h, ['attach', '--app=once', '--mode=tty', uuid], /no terminal/, 2);
  await refused(h, ['attach', uuid], /has 3 apps .*--app=NAME/);

  // stdin-once: the input's end is the app's; the app's exit code is attach's
  const once = await h.rkt(['--debug', 'attach', '--app=once', uuid], { input: 'echo attached-$((6*7))\nread x || echo saw-eof\nexit 7\n', timeoutMs: 120_000 });
  assert.equal(once.exitCode, 7, once.stderr);
  assert.match(once.stdout, /attached-42\n/);
  // it read the journal up to the reaper's end-of-run line, not until some quiet
  assert.match(once.stderr, /the journal holds the end of run [0-9a-f]{32} of once/);
  assert.equal((await waitAppState(h, uuid, 'once', 'exited'))['exit_code'], 7);

  // without --stdin-once: an attach that ends leaves the app reading; the next attach reaches the same shell
  const first = await h.rkt(['attach', '--app=keep', '--mode=stdin', uuid], { input: 'v=kept-$((1+1))\n', timeoutMs: 120_000 });
  assert.equal(first.exitCode, 0, first.stderr);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await appStatus(h, uuid, 'keep'))['state'], 'running');
  const second = await h.rkt(['attach', '--app=keep', uuid], { input: 'echo "$v"\nexit 4\n', timeoutMs: 120_000 });
  assert.equal(second.exitCode, 4, second.stderr);
  assert.match(second.stdout, /kept-2\n/);
  await ok(h, ['stop', uuid]);
  await sb.done;
}
