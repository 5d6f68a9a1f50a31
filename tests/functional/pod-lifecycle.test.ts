// Pod lifecycle through the real CLI and the stub stage1: prepare, run-prepared, run, list, status,
// cat-manifest, stop, rm, gc, exit codes, uuid files and prefixes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makePodHarness, type PodHarness } from '../harness/pod.js';

async function withHarness(fn: (h: PodHarness) => Promise<void>): Promise<void> {
  const h = await makePodHarness();
  try {
    await fn(h);
  } finally {
    await h.cleanup();
  }
}

function statusMap(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return m;
}

test('prepare, list, status, cat-manifest, run-prepared, status exited, rm', async () => {
  await withHarness(async (h) => {
    const img = await h.image('hello', ['/bin/sh', '-c', 'echo hello-from-app']);
    const prep = await h.rkt(['prepare', '--quiet', ...h.stage1Flags(), img]);
    assert.equal(prep.exitCode, 0, prep.stderr);
    const uuid = prep.stdout.trim();
    assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const list = await h.rkt(['list', '--no-legend']);
    assert.equal(list.exitCode, 0, list.stderr);
    const fields = list.stdout.trim().split(/\t+/);
    assert.deepEqual(fields.slice(0, 4), [uuid.slice(0, 8), 'hello', 'example.com/hello:1.0.0', 'prepared']);

    const st = await h.rkt(['status', uuid]);
    assert.equal(st.exitCode, 0, st.stderr);
    const sm = statusMap(st.stdout);
    assert.equal(sm.get('state'), 'prepared');
    assert.equal(sm.get('exited'), 'false');
    assert.match(sm.get('created') ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+$/);

    const cat = await h.rkt(['cat-manifest', uuid.slice(0, 6)]);
    assert.equal(cat.exitCode, 0, cat.stderr);
    const manifest = JSON.parse(cat.stdout) as { acKind: string; apps: { name: string; app: { exec: string[] } }[] };
    assert.equal(manifest.acKind, 'PodManifest');
    assert.deepEqual(manifest.apps[0]?.app.exec, ['/bin/sh', '-c', 'echo hello-from-app']);
    const compact = await h.rkt(['cat-manifest', '--pretty-print=false', uuid]);
    assert.equal(compact.stdout.trim().split('\n').length, 1);

    const run = await h.rkt(['run-prepared', uuid]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /hello-from-app/);

    const st2 = statusMap((await h.rkt(['status', uuid])).stdout);
    assert.equal(st2.get('state'), 'exited');
    assert.equal(st2.get('exited'), 'true');
    assert.equal(st2.get('app-hello'), '0');
    assert.ok(st2.has('started'));

    const again = await h.rkt(['run-prepared', uuid]);
    assert.equal(again.exitCode, 254);
    assert.match(again.stderr, /it is exited, only a prepared pod can be run/);

    const rm = await h.rkt(['rm', uuid]);
    assert.equal(rm.exitCode, 0, rm.stderr);
    assert.equal(rm.stdout.trim(), `"${uuid}"`);
    const gone = await h.rkt(['status', uuid]);
    assert.equal(gone.exitCode, 254);
    assert.deepEqual(await fs.readdir(path.join(h.dirs.dir, 'pods', 'exited-garbage')), []);
  });
});

test('run exits with the first failing app code; status shows each app; json formats', async () => {
  await withHarness(async (h) => {
    const img = await h.image('codes', ['/bin/true']);
    const r = await h.rkt([
      'run', ...h.stage1Flags(), '--uuid-file-save=' + path.join(h.dirs.root, 'uuid'),
      img, '--name=zero', '--exec=/bin/sh', '--', '-c', 'exit 0', '---',
      img, '--name=five', '--exec=/bin/sh', '--', '-c', 'exit 5', '---',
      img, '--name=six', '--exec=/bin/sh', '--', '-c', 'exit 6',
    ]);
    assert.equal(r.exitCode, 5, r.stderr);
    const uuid = (await fs.readFile(path.join(h.dirs.root, 'uuid'), 'utf8')).trim();
    const st = statusMap((await h.rkt(['status', `--uuid-file=${path.join(h.dirs.root, 'uuid')}`])).stdout);
    assert.equal(st.get('app-zero'), '0');
    assert.equal(st.get('app-five'), '5');
    assert.equal(st.get('app-six'), '6');

    const js = await h.rkt(['list', '--format=json']);
    const pods = JSON.parse(js.stdout) as { name: string; state: string; app_names: string[]; apps: { name: string; exit_code?: number }[]; created_at: number }[];
    assert.equal(pods.length, 1);
    assert.equal(pods[0]?.name, uuid);
    assert.equal(pods[0]?.state, 'exited');
    assert.deepEqual(pods[0]?.app_names, ['zero', 'five', 'six']);
    assert.equal(pods[0]?.apps.find((a) => a.name === 'six')?.exit_code, 6);
    assert.equal(typeof pods[0]?.created_at, 'number');

    const sj = JSON.parse((await h.rkt(['status', '--format=json', uuid])).stdout) as { name: string; state: string };
    assert.equal(sj.name, uuid);
    assert.equal(sj.state, 'exited');

    const full = await h.rkt(['list', '--full']);
    const lines = full.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^UUID\t+APP\t+IMAGE NAME\t+IMAGE ID\t+STATE\t+CREATED\t+STARTED\t+NETWORKS$/);
    assert.equal(lines.length, 4, 'legend + one row per app');
    assert.ok(lines[1]?.startsWith(uuid));
  });
});

test('stop: graceful and already stopped; status --wait-ready and --wait', async () => {
  await withHarness(async (h) => {
    const img = await h.image('sleeper', ['/bin/sleep', '1000']);
    const uuidFile = path.join(h.dirs.root, 'uuid');
    const child = h.spawn(['run', ...h.stage1Flags(), `--uuid-file-save=${uuidFile}`, img]);
    // The uuid file is written before prepare starts; poll for it (no timing in the assertion).
    let uuid = '';
    for (let i = 0; i < 600 && uuid === ''; i++) {
      uuid = (await fs.readFile(uuidFile, 'utf8').catch(() => '')).trim();
      if (uuid === '') await new Promise((r) => setTimeout(r, 50));
    }
    const ready = await h.rkt(['status', '--wait-ready=60s', uuid]);
    assert.equal(ready.exitCode, 0, ready.stderr);
    const sm = statusMap(ready.stdout);
    assert.equal(sm.get('state'), 'running');
    assert.match(sm.get('pid') ?? '', /^[1-9][0-9]*$/);

    const rmRunning = await h.rkt(['rm', uuid]);
    assert.equal(rmRunning.exitCode, 254);
    assert.match(rmRunning.stderr, /cannot remove pod .*: it is running/);

    const stop = await h.rkt(['stop', uuid], { env: { STUB_LOG_DIR: h.dirs.root } });
    assert.equal(stop.exitCode, 0, stop.stderr);
    assert.equal(stop.stdout.trim(), `"${uuid}"`);
    const log = await fs.readFile(path.join(h.dirs.root, 'stub.log'), 'utf8');
    assert.match(log, new RegExp(`^stop ${uuid}$`, 'm'));
    const done = await child;
    assert.equal(done.exitCode, 143, String(done.stderr)); // SIGTERM'd app: 128+15

    const waited = statusMap((await h.rkt(['status', '--wait', uuid])).stdout);
    assert.equal(waited.get('state'), 'exited');
    assert.equal(waited.get('app-sleeper'), '143');

    const again = await h.rkt(['stop', uuid]);
    assert.equal(again.exitCode, 0);
    assert.equal(again.stdout.trim(), `pod "${uuid}" is already stopped`);
  });
});

test('gc: mark-only, grace period, then sweep runs stage1 gc and unmounts', async () => {
  await withHarness(async (h) => {
    const img = await h.image('gcme', ['/bin/true']);
    const r = await h.rkt(['run', ...h.stage1Flags(), `--uuid-file-save=${path.join(h.dirs.root, 'u1')}`, img]);
    assert.equal(r.exitCode, 0, r.stderr);
    const exited = (await fs.readFile(path.join(h.dirs.root, 'u1'), 'utf8')).trim();
    const prep = await h.rkt(['prepare', '--quiet', ...h.stage1Flags(), img]);
    const prepared = prep.stdout.trim();

    const mark = await h.rkt(['gc', '--mark-only']);
    assert.equal(mark.exitCode, 0, mark.stderr);
    assert.match(mark.stdout, new RegExp(`Moving pod "${exited}" to garbage`));
    assert.equal(statusMap((await h.rkt(['status', exited])).stdout).get('state'), 'exited garbage');
    assert.equal(statusMap((await h.rkt(['status', prepared])).stdout).get('state'), 'prepared');

    const graced = await h.rkt(['gc']);
    assert.equal(graced.exitCode, 0);
    assert.equal(statusMap((await h.rkt(['status', exited])).stdout).get('state'), 'exited garbage', 'still within 30m grace');

    const sweep = await h.rkt(['gc', '--grace-period=0s', '--expire-prepared=0s'], { env: { STUB_LOG_DIR: h.dirs.root } });
    assert.equal(sweep.exitCode, 0, sweep.stderr);
    assert.match(sweep.stdout, new RegExp(`Garbage collecting pod "${exited}"`));
    assert.match(sweep.stdout, new RegExp(`Garbage collecting pod "${prepared}"`));
    const log = await fs.readFile(path.join(h.dirs.root, 'stub.log'), 'utf8');
    assert.match(log, new RegExp(`^gc --local-config ${h.dirs.localConfig} ${exited} cwd=.*/pods/exited-garbage/${exited}$`, 'm'));
    assert.doesNotMatch(log, new RegExp(prepared), 'a pod that never ran gets no stage1 gc');
    const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(h.dirs.dir), 'no mounts left under the data dir');
    assert.equal((await h.rkt(['list', '--no-legend'])).stdout.trim(), '');
  });
});

test('--no-overlay copies trees; --private-users allocates distinct ranges', async () => {
  await withHarness(async (h) => {
    const img = await h.image('copy', ['/bin/true']);
    const a = (await h.rkt(['prepare', '--quiet', '--no-overlay', '--private-users', ...h.stage1Flags(), img])).stdout.trim();
    const b = (await h.rkt(['prepare', '--quiet', '--no-overlay', '--private-users', ...h.stage1Flags(), img])).stdout.trim();
    const ra = await fs.readFile(path.join(h.podDir('prepared', a), 'private-users-prepared'), 'utf8');
    const rb = await fs.readFile(path.join(h.podDir('prepared', b), 'private-users-prepared'), 'utf8');
    assert.match(ra, /^[0-9]+:65536$/);
    assert.notEqual(ra, rb);
    assert.equal(Number(ra.split(':')[0]) % 65536, 0);
    await assert.rejects(fs.access(path.join(h.podDir('prepared', a), 'overlay-prepared')));
    await fs.access(path.join(h.podDir('prepared', a), 'stage1/rootfs/opt/stage2/copy/rootfs/bin/busybox'));
    const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(h.podDir('prepared', a)), 'no overlay mounts with --no-overlay');
    const run = await h.rkt(['run-prepared', '--net=none', a]);
    assert.equal(run.exitCode, 0, run.stderr);
    const args = (await fs.readFile(path.join(h.podDir('run', a), 'stub-run-args'), 'utf8')).trim().split('\n');
    assert.ok(args.includes(`--private-users=${ra}`));
    assert.ok(args.includes('--net=none'));
  });
});
