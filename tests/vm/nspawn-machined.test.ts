// Inside the test VM: an nspawn-stage1 pod is a machined machine (machinectl, journalctl -M
// while it runs, journalctl -m _MACHINE_ID= after it exits, rkt gc unregisters and unlinks),
// and `systemd-run rkt run ...` runs, logs and stops cleanly as a transient unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { explain, grepLines, proof, sh, stage1Missing } from './vm-env.js';
import { buildBusyboxAci } from './test-image.js';
import { podWork, rkt, rktRunArgs, startBackground, waitForMachine, waitForOutput, waitForUuid } from './pod-run.js';

const skip = stage1Missing('nspawn');
// Under TCG everything is ~10x slower than on the host: generous waits, no timing asserts.
const START_MS = 300_000;

test('nspawn pod: machined registration, journalctl -M/-m, gc', { skip, timeout: 900_000 }, async () => {
  const w = await podWork('rkt-vm-nspawn');
  try {
    const aci = await buildBusyboxAci(w.work, 'example.com/vm-logger',
      ['/bin/sh', '-c', `echo ${w.marker} running; sleep 30; echo ${w.marker} exiting`]);
    // Like a user at a shell: no INVOCATION_ID (shellEnv), so no --keep-unit, and nspawn asks
    // machined for a scope of the pod's own (machine-rkt\x2d<uuid>.scope).
    const pod = w.track(startBackground(process.execPath, rktRunArgs(w, 'nspawn', aci)));
    const uuid = await waitForUuid(w, pod, START_MS);
    const name = `rkt-${uuid}`;
    const id = uuid.replace(/-/g, '');

    const listed = await waitForMachine(name, true, START_MS, pod);
    assert.ok(listed, `machinectl list never showed ${name}; rkt output so far:\n${pod.output()}`);
    proof('machinectl list shows the pod', listed, grepLines(listed.stdout, name));

    const jm = await waitForOutput('journalctl', ['-M', name, '--no-pager'], `${w.marker} running`, START_MS);
    assert.ok(jm, `journalctl -M ${name} never showed "${w.marker} running"`);
    proof('journalctl -M shows the running app', jm, grepLines(jm.stdout, w.marker));

    const st = await sh('machinectl', ['status', name, '--no-pager']);
    assert.equal(st.exitCode, 0, explain(st));
    assert.match(st.stdout, new RegExp(`${name}\\(${id}\\)`), 'machinectl status names the machine with its machine-id');
    proof('machinectl status shows the pod', st, grepLines(st.stdout, /rkt-|Since:|Leader:|Service:|Unit:|Class:|Root:/));
    const unit = await sh('machinectl', ['show', name, '--property=Unit', '--value']);
    assert.equal(unit.stdout.trim(), `machine-${name.replace(/-/g, '\\x2d')}.scope`, 'a pod started from a shell gets a machine scope of its own');

    const done = await pod.proc;
    assert.equal(done.exitCode, 0, `rkt run exited ${done.exitCode}:\n${pod.output()}`);

    const link = `/var/log/journal/${id}`;
    const target = await readlink(link).catch((e: unknown) => `(no link: ${String(e)})`);
    assert.ok(target.includes(`${uuid}/stage1/rootfs/var/log/journal/${id}`), `journal link ${link} -> ${target}`);
    const jmm = await sh('journalctl', ['-m', `_MACHINE_ID=${id}`, '--no-pager']);
    assert.ok(jmm.stdout.includes(`${w.marker} exiting`), explain(jmm));
    proof('journalctl -m _MACHINE_ID= after exit', jmm, [...grepLines(jmm.stdout, w.marker), `(via ${link} -> ${target})`]);

    const status = await rkt(w, ['status', uuid]);
    proof('rkt status after exit', status, status.stdout.split('\n').filter(Boolean));
    assert.match(status.stdout, /state=exited/, explain(status));

    const gc = await rkt(w, ['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, explain(gc));
    const gone = await sh('machinectl', ['status', name, '--no-pager']);
    assert.notEqual(gone.exitCode, 0, `machine still registered after rkt gc:\n${explain(gone)}`);
    const linkAfter = await readlink(link).then((t) => `still there -> ${t}`, () => 'gone');
    assert.equal(linkAfter, 'gone', `journal link ${link} after rkt gc`);
    proof('rkt gc unregisters and unlinks', gc, [
      ...gc.stdout.split('\n').filter(Boolean),
      `$ machinectl status ${name} -> exit ${gone.exitCode}: ${gone.stderr.trim()}`,
      `$ readlink ${link} -> ${linkAfter}`,
    ]);
  } finally {
    await w.cleanup();
  }
});

test('systemd-run rkt run: a transient unit that runs, logs and stops cleanly', { skip, timeout: 900_000 }, async () => {
  const w = await podWork('rkt-vm-unit');
  const unit = `rkt-vmtest-${randomBytes(3).toString('hex')}`;
  try {
    const aci = await buildBusyboxAci(w.work, 'example.com/vm-unit',
      ['/bin/sh', '-c', `echo ${w.marker} running; sleep 20; echo ${w.marker} exiting`]);
    // --wait: systemd-run reports the unit's result when it is gone (the "stops cleanly" proof)
    const run = w.track(startBackground('systemd-run', ['--wait', `--unit=${unit}`, '--description=rkt pod (test-vm)',
      process.execPath, ...rktRunArgs(w, 'nspawn', aci)]));
    const uuid = await waitForUuid(w, run, START_MS);
    const name = `rkt-${uuid}`;

    const listed = await waitForMachine(name, true, START_MS, run);
    assert.ok(listed, `machinectl list never showed ${name}; systemd-run output so far:\n${run.output()}`);
    const show = await sh('machinectl', ['show', name, '--property=Unit', '--property=Class', '--property=Leader']);
    proof('the pod is a machine of the transient unit', show, [...grepLines(listed.stdout, name), ...show.stdout.split('\n').filter(Boolean)]);
    // --keep-unit: the machine belongs to the service rkt runs in, not to a scope of its own
    assert.match(show.stdout, new RegExp(`^Unit=${unit}\\.service$`, 'm'), explain(show));
    const active = await sh('systemctl', ['is-active', `${unit}.service`]);
    assert.equal(active.stdout.trim(), 'active', explain(active));

    const done = await run.proc;
    assert.equal(done.exitCode, 0, `systemd-run --wait exited ${done.exitCode}:\n${run.output()}`);
    proof('systemd-run --wait: the unit finished cleanly', { command: `systemd-run --wait --unit=${unit} node rkt.js run ...`, exitCode: done.exitCode ?? -1, stdout: '', stderr: '' },
      grepLines(run.output(), /Finished with result|Main processes terminated|Service runtime/));
    assert.match(run.output(), /Finished with result: success/);

    const jl = await sh('journalctl', ['-u', `${unit}.service`, '--no-pager']);
    assert.ok(jl.stdout.includes(`${w.marker} exiting`), explain(jl));
    proof('journalctl -u shows the app output', jl, grepLines(jl.stdout, w.marker));

    const gone = await waitForMachine(name, false, 60_000);
    assert.ok(gone, `${name} still registered after its unit stopped`);
  } finally {
    await sh('systemctl', ['stop', `${unit}.service`]);
    await w.cleanup();
  }
});
