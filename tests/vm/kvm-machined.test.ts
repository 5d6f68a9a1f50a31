// Inside the test VM: a kvm-stage1 pod (QEMU inside the test VM) is registered with machined
// and `journalctl -M rkt-<uuid>` shows its app's output. TCG inside TCG is slow (7-10 minutes here), so
// this is one focused test. It runs by default only where the test VM has hardware KVM
// (RKT_TEST_VM_KVM=1 forces it, 0 skips it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readlink } from 'node:fs/promises';
import { explain, grepLines, proof, sh, stage1Missing } from './vm-env.js';
import { buildBusyboxAci } from './test-image.js';
import { podDir, podWork, rkt, rktRunArgs, startBackground, waitForMachine, waitForOutput, waitForUuid } from './pod-run.js';

function skipReason(): string | false {
  const missing = stage1Missing('kvm');
  if (missing) return missing;
  if (process.env['RKT_TEST_VM_KVM'] === '0') {
    return process.env['RKT_TEST_VM_ACCEL'] === 'tcg'
      ? 'the test VM runs under TCG, so the pod VM would be TCG inside TCG (too slow to boot here); RKT_TEST_VM_KVM=1 runs it anyway'
      : 'RKT_TEST_VM_KVM=0: the kvm-stage1-in-the-VM test was turned off';
  }
  return false;
}

// Nested TCG: the pod's own kernel and systemd boot many times slower than on the host.
const START_MS = 600_000;

test('kvm pod: machined registration and journalctl -M', { skip: skipReason(), timeout: 1_500_000 }, async () => {
  const w = await podWork('rkt-vm-kvm');
  const t0 = Date.now();
  let onConsole: NodeJS.Timeout | undefined;
  try {
    const aci = await buildBusyboxAci(w.work, 'example.com/vm-kvm-logger',
      ['/bin/sh', '-c', `echo ${w.marker} running; sleep 60; echo ${w.marker} exiting`]);
    const pod = w.track(startBackground(process.execPath, rktRunArgs(w, 'kvm', aci)));
    // When the guest got to its app, seen on rkt's console (its log lines reach both): timing for the log.
    onConsole = setInterval(() => {
      if (!pod.output().includes(`${w.marker} running`)) return;
      process.stdout.write(`kvm-in-VM: app line on rkt's console ${Math.round((Date.now() - t0) / 1000)}s after rkt run started\n`);
      clearInterval(onConsole);
    }, 1000);
    const uuid = await waitForUuid(w, pod, START_MS);
    process.stdout.write(`kvm-in-VM: pod ${uuid} prepared ${Math.round((Date.now() - t0) / 1000)}s after rkt run started\n`);
    const name = `rkt-${uuid}`;
    const id = uuid.replace(/-/g, '');

    const listed = await waitForMachine(name, true, START_MS, pod);
    if (!listed) {
      // Say what did happen, so a missing registration is told apart from a pod that never ran.
      const ended = pod.ended();
      const jmm = await sh('journalctl', ['-m', `_MACHINE_ID=${id}`, '--no-pager']);
      proof('the VM pod was never registered; its journal via the link', jmm, grepLines(jmm.stdout, w.marker));
      assert.fail(`machinectl list never showed ${name} (rkt ${ended ? `exited ${String(pod.proc.exitCode)}` : 'still running'} after `
        + `${Math.round((Date.now() - t0) / 1000)}s); rkt output:\n${pod.output()}`);
    }
    proof('machinectl list shows the VM pod', listed, grepLines(listed.stdout, name));
    const st = await sh('machinectl', ['status', name, '--no-pager']);
    assert.equal(st.exitCode, 0, explain(st));
    proof('machinectl status shows the VM pod', st, grepLines(st.stdout, /rkt-|Since:|Leader:|Class:|Unit:/));

    const jm = await waitForOutput('journalctl', ['-M', name, '--no-pager'], `${w.marker} running`, START_MS);
    if (!jm) {
      // Tell a guest that never got to its app apart from a journal journalctl -M cannot read.
      const journalDir = `${podDir(w, uuid)}/stage1/rootfs/var/log/journal`;
      const last = await sh('journalctl', ['-M', name, '--no-pager', '-n', '20']);
      const files = await sh('ls', ['-laR', journalDir]);
      const direct = await sh('journalctl', ['-D', `${journalDir}/${id}`, '--no-pager', '-n', '20']);
      const machineFile = await sh('cat', [`/run/systemd/machines/${name}`]);
      assert.fail(`journalctl -M ${name} never showed "${w.marker} running" (${Math.round((Date.now() - t0) / 1000)}s after rkt run started; `
        + `app line on rkt's console: ${pod.output().includes(`${w.marker} running`) ? 'yes' : 'no'})\n`
        + `${explain(last)}\n${explain(files)}\n${explain(direct)}\n${explain(machineFile)}\nrkt output (tail):\n${pod.output().slice(-6000)}`);
    }
    proof('journalctl -M shows the VM pod app', jm, grepLines(jm.stdout, w.marker));
    process.stdout.write(`kvm-in-VM: app output visible ${Math.round((Date.now() - t0) / 1000)}s after rkt run started\n`);

    const done = await pod.proc;
    assert.equal(done.exitCode, 0, `rkt run exited ${done.exitCode}:\n${pod.output()}`);
    const link = `/var/log/journal/${id}`;
    const target = await readlink(link).catch((e: unknown) => `(no link: ${String(e)})`);
    assert.ok(target.includes(`${uuid}/stage1/rootfs/var/log/journal/${id}`), `journal link ${link} -> ${target}`);
    const jmm = await sh('journalctl', ['-m', `_MACHINE_ID=${id}`, '--no-pager']);
    assert.ok(jmm.stdout.includes(`${w.marker} exiting`), explain(jmm));
    proof('journalctl -m _MACHINE_ID= after exit', jmm, [...grepLines(jmm.stdout, w.marker), `(via ${link} -> ${target})`]);
    const gc = await rkt(w, ['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, explain(gc));
    const gone = await waitForMachine(name, false, 60_000);
    assert.ok(gone, `${name} still registered after rkt gc`);
    const linkAfter = await readlink(link).then((t) => `still there -> ${t}`, () => 'gone');
    assert.equal(linkAfter, 'gone', `journal link ${link} after rkt gc`);
    proof('rkt gc unregisters and unlinks', gc, [
      `$ machinectl list -> no ${name}`,
      `$ readlink ${link} -> ${linkAfter}`,
    ]);
    process.stdout.write(`kvm-in-VM: whole test ${Math.round((Date.now() - t0) / 1000)}s\n`);
  } finally {
    clearInterval(onConsole);
    await w.cleanup();
  }
});
