// The runc CVE-2019-5736 pattern against rkt: a hostile app (root in its pod, the default capabilities)
// watches its pod's /proc for processes that enter it (`rkt enter`, the stage1's helpers), grabs an O_PATH
// handle on each one's executable and tries to reopen it for writing, which would let it overwrite a host
// binary once that is no longer busy (tests/fixtures/exe-grab.c; it never writes). After twelve entries the
// app must hold no handle on a host binary that it could open for writing, and the host binaries must hash
// the same. Both stage1s (the kvm guest's processes are the guest's, so there the host is out of sight).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { makeAciDir } from '../harness/aci.js';
import { makeKvmHarness, skipReason as kvmSkip } from './kvm-helpers.js';
import { journalMessages, makeNspawnHarness, skipReason as nspawnSkip, type NspawnHarness } from './nspawn-helpers.js';

const EXE_GRAB = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'exe-grab');
const ENTRIES = 12;

/** What runs on the host while rkt enters a pod: the binaries an app must never be able to write. */
function hostBinaries(): string[] {
  const found: string[] = [process.execPath];
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    for (const name of ['nsenter', 'systemd-nspawn', 'systemd-run', 'machinectl', 'qemu-system-x86_64', 'sh', 'dash', 'bash', 'busybox']) {
      const p = path.join(dir, name);
      if (fs.existsSync(p)) found.push(fs.realpathSync(p));
    }
  }
  return [...new Set(found)];
}

const sha = (p: string): string => createHash('sha256').update(fs.readFileSync(p)).digest('hex');

async function exeBody(h: NspawnHarness): Promise<void> {
  const dir = await makeAciDir({
    name: 'example.com/exe-grab', version: '1.0.0', busybox: true, parent: h.dirs.root,
    files: { 'exe-grab': { content: fs.readFileSync(EXE_GRAB), mode: 0o755 } },
    manifestExtra: { app: { exec: ['/exe-grab'], user: '0', group: '0' } },
  });
  const img = path.join(h.dirs.root, 'exe-grab.aci');
  await execa('tar', ['-C', dir, '-cf', img, 'manifest', 'rootfs']);
  const binaries = hostBinaries();
  const hashes = new Map(binaries.map((b) => [b, sha(b)]));
  const hostIds = new Map(binaries.map((b) => { const st = fs.statSync(b); return [`${st.dev}:${st.ino}`, b]; }));

  const pod = await h.startPod([img]);
  for (let i = 0; i < ENTRIES; i++) {
    const e = await h.rkt(['enter', pod.uuid, '/bin/sh', '-c', 'echo entered'], { timeoutMs: 120_000 });
    assert.equal(e.exitCode, 0, e.stderr);
  }
  assert.equal((await h.rkt(['stop', pod.uuid], { timeoutMs: 120_000 })).exitCode, 0);
  await pod.done;

  const lines = await journalMessages(h.findPodDir(pod.uuid), pod.uuid, 'exe-grab');
  assert.ok(lines.some((l) => /^exe-grab watching as uid 0$/.test(l)), `the app did not run: ${lines.join('\n')}`);
  const seen = lines.filter((l) => l.startsWith('seen ')).length;
  const grabbed = lines.filter((l) => l.startsWith('grabbed '));
  const writable = lines.filter((l) => l.startsWith('WRITABLE '));
  const idOf = (l: string): string => l.split(' ').find((w) => /^[0-9]+:[0-9]+$/.test(w)) ?? '';
  const hostGrabbed = grabbed.filter((l) => hostIds.has(idOf(l)));
  const hostWritable = writable.filter((l) => hostIds.has(idOf(l)));
  // the figures, for the record: how many entering processes the app saw and caught
  const names = [...new Set(writable.map((l) => l.split(' ').slice(2).join(' ')))].join(', ');
  console.log(`exe-grab: ${ENTRIES} entries, ${seen} processes seen, ${grabbed.length} executables grabbed (${hostGrabbed.length} of the host), ${writable.length} writable (${hostWritable.length} of the host): ${names}`);
  assert.deepEqual(hostWritable, [], `the app could open a host binary for writing:\n${lines.join('\n')}`);
  for (const [b, h0] of hashes) assert.equal(sha(b), h0, `${b} changed`);
}

const flavors = [
  { name: 'nspawn', skip: nspawnSkip(), harness: makeNspawnHarness },
  { name: 'kvm', skip: kvmSkip(), harness: makeKvmHarness },
];
for (const f of flavors) {
  const skip = f.skip !== false ? f.skip : fs.existsSync(EXE_GRAB) ? false : `${EXE_GRAB} is not built (scripts/build.sh)`;
  test(`${f.name}: an app that grabs the executables of processes entering its pod cannot write a host binary (CVE-2019-5736 pattern)`, { skip }, async () => {
    const h = await f.harness();
    try {
      await exeBody(h);
    } finally {
      await h.teardown();
    }
  });
}
