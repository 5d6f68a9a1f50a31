// A pod that attacks the host through its own tree: root in an nspawn pod, or a kvm guest (root or a
// compromised kernel) writing through its shared root, plants symlinks to host files and directories and
// FIFOs where rkt reads and writes the pod's status. The host-side tools are simulated by planting the same
// files from the host into the pod's tree while it runs: rkt reads nothing outside the pod, blocks on
// nothing, writes nowhere outside it, and the pod stays removable. Both stage1s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { kvmStage1Aci, makeKvmHarness, skipReason as kvmSkip } from './kvm-helpers.js';
import { makeNspawnHarness, nspawnStage1Aci, skipReason as nspawnSkip, type NspawnHarness } from './nspawn-helpers.js';
import { startSandbox } from './app-bodies.js';

/** Every file under `dir` with its content: what must stay exactly as it was. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath ?? e.path, e.name);
    out[path.relative(dir, p)] = e.isFile() ? fs.readFileSync(p, 'utf8') : e.isDirectory() ? '<dir>' : '<other>';
  }
  return out;
}

/** stderr without the warnings (the test images are unsigned). */
const errorLines = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => !/: warning: /.test(l));

async function tamperBody(h: NspawnHarness, aci: string): Promise<void> {
  const idle = await h.image('idle', ['/bin/sh', '-c', 'sleep 1000']);
  const sb = await startSandbox(h, aci);
  const { uuid } = sb;
  const rktIn = async (args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> => {
    const r = await h.rkt(args, { timeoutMs: 120_000 });
    return { exitCode: r.exitCode ?? 254, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  for (const app of ['a', 'b', 'c']) assert.equal((await rktIn(['app', 'add', uuid, idle, `--name=${app}`])).exitCode, 0);

  const host = path.join(h.dirs.root, 'host-owned');
  fs.mkdirSync(host);
  fs.writeFileSync(path.join(host, 'a'), '42\n');
  fs.writeFileSync(path.join(host, 'c'), '3\n');
  fs.writeFileSync(path.join(host, 'x'), 'HOST=1\n');
  const before = snapshot(host);
  const root = path.join(sb.dir, 'stage1/rootfs');

  // what rkt reads: a status that is a symlink to a host file, a FIFO status, a FIFO history
  fs.symlinkSync(path.join(host, 'a'), path.join(root, 'rkt/status/a'));
  execFileSync('mkfifo', [path.join(root, 'rkt/status/b')]);
  fs.mkdirSync(path.join(root, 'rkt/history'), { recursive: true });
  execFileSync('mkfifo', [path.join(root, 'rkt/history/c')]);
  for (const app of ['a', 'b', 'c']) {
    const s = await rktIn(['app', 'status', uuid, `--app=${app}`, '--format=json']);
    assert.equal(s.exitCode, 0, s.stderr);
    const st = JSON.parse(s.stdout) as Record<string, unknown>;
    assert.equal(st['state'], 'created', `app ${app}: ${s.stdout}`);
    assert.equal(st['exit_code'], undefined, `app ${app} read a planted status: ${s.stdout}`);
  }
  const list = await rktIn(['app', 'list', uuid]);
  assert.equal(list.exitCode, 0, list.stderr);
  const status = await rktIn(['status', uuid]);
  assert.equal(status.exitCode, 0, status.stderr);
  assert.doesNotMatch(status.stdout, /=42/);

  // what rkt writes: rkt/started pointed at a host directory, then the unit directory
  fs.rmSync(path.join(root, 'rkt/started'), { recursive: true, force: true });
  fs.symlinkSync(host, path.join(root, 'rkt/started'));
  const start = await rktIn(['app', 'start', uuid, '--app=c']);
  assert.equal(start.exitCode, 254, `app start should be refused: ${start.stderr}`);
  assert.match(start.stderr, /tampered with: stage1\/rootfs\/rkt\/started is a symlink/);
  assert.equal(errorLines(start.stderr).length, 1, start.stderr);
  // (the apps' environment files: a directory of the pod's own, not of its image, so it can be swapped here)
  const env = path.join(root, 'rkt/env');
  fs.renameSync(env, `${env}.real`);
  fs.symlinkSync(host, env);
  const add = await rktIn(['app', 'add', uuid, idle, '--name=x']);
  assert.equal(add.exitCode, 254, `app add should be refused: ${add.stderr}`);
  assert.match(add.stderr, /tampered with: rkt\/env is a symlink/);
  assert.equal(errorLines(add.stderr).length, 1, add.stderr);
  fs.rmSync(env);
  fs.renameSync(`${env}.real`, env);
  assert.equal((await rktIn(['app', 'list', '--no-legend', uuid])).stdout.split('\n').filter(Boolean).length, 3, 'the refused app was rolled back');
  assert.deepEqual(snapshot(host), before, 'a host file was written, removed or added through the pod');

  // the pod is still stopped and removed cleanly, and its links are removed, never followed
  assert.equal((await rktIn(['stop', uuid])).exitCode, 0);
  await sb.done;
  const rm = await rktIn(['rm', uuid]);
  assert.equal(rm.exitCode, 0, rm.stderr);
  assert.deepEqual(snapshot(host), before, 'rkt rm followed a link out of the pod');
}

const flavors = [
  { name: 'nspawn', skip: nspawnSkip(), aci: nspawnStage1Aci, harness: makeNspawnHarness },
  { name: 'kvm', skip: kvmSkip(), aci: kvmStage1Aci, harness: makeKvmHarness },
];
for (const f of flavors) {
  test(`${f.name}: a pod that plants symlinks and FIFOs in its tree reaches no host file and blocks no rkt command`, { skip: f.skip }, async () => {
    const h = await f.harness();
    try {
      await tamperBody(h, f.aci());
    } finally {
      await h.teardown();
    }
  });
}
