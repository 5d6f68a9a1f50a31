// Test bodies shared by the nspawn and kvm stage1s (one scenario, one body; each flavor's test file
// passes its own harness and adds what only it can check).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { journalMessages, type NspawnHarness } from './nspawn-helpers.js';

type RunResult = Awaited<ReturnType<NspawnHarness['runPod']>>;

/** One app exiting 42: rkt run exits 42, the status file and `rkt status` say 42, the journal has its output. */
export async function singleAppExitBody(
  h: NspawnHarness,
  run: (images: string[]) => Promise<RunResult>,
  extra?: (r: RunResult, podDir: string) => Promise<void> | void,
): Promise<void> {
  const img = await h.image('exit42', ['/bin/sh', '-c', 'echo hello-from-the-app; echo to-stderr >&2; exit 42']);
  const r = await run([img]);
  assert.equal(r.exitCode, 42, r.stderr);
  assert.match(r.stdout, /hello-from-the-app/);
  const podDir = h.findPodDir(r.uuid);
  assert.equal(fs.readFileSync(path.join(podDir, 'stage1/rootfs/rkt/status/exit42'), 'utf8').trim(), '42');
  const st = await h.rkt(['status', r.uuid]);
  assert.match(st.stdout, /app-exit42=42/);
  const journal = await journalMessages(podDir, r.uuid, 'exit42');
  assert.ok(journal.includes('hello-from-the-app'), journal.join('\n'));
  assert.ok(journal.includes('to-stderr'), journal.join('\n'));
  if (extra) await extra(r, podDir);
}

/**
 * `rkt run --debug`'s account of the start, up to the exec of nspawn/QEMU: one line per phase of stage0, then
 * of the stage1's run entrypoint (timed from stage0's exec of it), each side with its total. Only the lines'
 * presence and order are checked, never their values.
 */
export function assertStartPhases(stderr: string): void {
  const phases = stderr.split('\n').map((l) => /timing: (stage0|stage1) ([^:]+): [0-9.]+ ms/.exec(l)).filter((m) => m !== null).map((m) => `${m[1]} ${m[2]}`);
  for (const want of ['stage0 start-up (node, modules, flags)', 'stage0 pod arguments', 'stage0 images and stage1 found in the store', 'stage0 pod files written', 'stage0 handover prepared', 'stage0 total',
    'stage1 start-up (exec, node, modules)', 'stage1 pod manifest and images read', 'stage1 app units and accounts written', 'stage1 launch command built', 'stage1 total']) {
    assert.ok(phases.includes(want), `no "timing: ${want}" line under --debug; got ${JSON.stringify(phases)}`);
  }
  assert.ok(phases.indexOf('stage0 total') < phases.indexOf('stage1 start-up (exec, node, modules)'), 'stage0 reports before the stage1');
}

/** Three apps exiting 0, 5, 6: rkt run exits 5 (the first failing app in pod order), each status recorded. */
export async function firstFailingAppBody(h: NspawnHarness): Promise<RunResult> {
  const a = await h.image('app-a', ['/bin/sh', '-c', 'exit 0']);
  const b = await h.image('app-b', ['/bin/sh', '-c', 'sleep 0.3; exit 5']);
  const c = await h.image('app-c', ['/bin/sh', '-c', 'exit 6']);
  const r = await h.runPod([a, b, c]);
  assert.equal(r.exitCode, 5, r.stderr);
  const podDir = h.findPodDir(r.uuid);
  const status = (app: string): string => fs.readFileSync(path.join(podDir, 'stage1/rootfs/rkt/status', app), 'utf8').trim();
  assert.deepEqual([status('app-a'), status('app-b'), status('app-c')], ['0', '5', '6']);
  return r;
}
