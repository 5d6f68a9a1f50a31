// Inside the test VM (systemd as PID 1, cgroup v2 with its controllers): socket activation through a real
// .socket + .service pair (the first connection starts the pod, the app answers on the inherited socket),
// and an nspawn pod's limits enforced (over its memory limit the app is OOM-killed and its exit says so;
// a CPU quota shows in the app's cpu.max and in its measured usage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { explain, grepLines, projectRoot, proof, sh, sleep, stage1Missing, waitFor } from './vm-env.js';
import { buildBusyboxAci } from './test-image.js';
import { podWork, rkt, rktRunArgs, startBackground, waitForUuid } from './pod-run.js';

const skip = stage1Missing('nspawn');
const START_MS = 300_000;
const SD_ECHO = join(projectRoot, 'dist', 'tests', 'fixtures', 'sd-echo');

function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    s.setTimeout(START_MS);
    s.on('data', (d) => (text += d.toString()));
    s.on('end', () => resolve(text));
    s.on('timeout', () => { s.destroy(); resolve('(timeout)'); });
    s.on('error', (e) => resolve(`(error: ${e.message})`));
  });
}

test('socket activation: a .socket unit starts the pod on the first connection; the app answers on the inherited socket', { skip, timeout: 900_000 }, async () => {
  const w = await podWork('rkt-vm-sockets');
  const name = `rkt-vmsock-${randomBytes(3).toString('hex')}`;
  const port = 20000 + Math.floor(Math.random() * 20000);
  try {
    const dir = join(w.work, 'sd-echo-build');
    await mkdir(join(dir, 'rootfs'), { recursive: true });
    await copyFile(SD_ECHO, join(dir, 'rootfs', 'sd-echo'));
    await chmod(join(dir, 'rootfs', 'sd-echo'), 0o755);
    await writeFile(join(dir, 'manifest'), JSON.stringify({
      acKind: 'ImageManifest', acVersion: '0.8.11', name: 'example.com/vm-sd-echo',
      labels: [{ name: 'version', value: '1.0.0' }, { name: 'os', value: 'linux' }, { name: 'arch', value: 'amd64' }],
      app: { exec: ['/sd-echo'], user: '0', group: '0', ports: [{ name: 'http', protocol: 'tcp', port: 8080, socketActivated: true }] },
    }));
    const aci = join(w.work, 'sd-echo.aci');
    await execa('tar', ['-C', dir, '--numeric-owner', '-cf', aci, 'manifest', 'rootfs']);
    const run = [process.execPath, ...rktRunArgs(w, 'nspawn', aci)].join(' ');
    await writeFile(`/run/systemd/system/${name}.socket`, `[Socket]\nListenStream=127.0.0.1:${port}\nFileDescriptorName=http\n`);
    await writeFile(`/run/systemd/system/${name}.service`, `[Service]\nExecStart=${run}\nKillMode=mixed\n`);
    assert.equal((await sh('systemctl', ['daemon-reload'])).exitCode, 0);
    const started = await sh('systemctl', ['start', `${name}.socket`]);
    assert.equal(started.exitCode, 0, explain(started));
    const before = await sh('systemctl', ['is-active', `${name}.service`]);
    assert.notEqual(before.stdout.trim(), 'active', 'the pod must not run before the first connection');

    const first = await ask(port);
    assert.equal(first, 'hello from the pod: LISTEN_FDS=1 LISTEN_FDNAMES=http\n', first);
    const second = await ask(port);
    assert.equal(second, first);
    const svc = await sh('systemctl', ['status', `${name}.service`, '--no-pager', '-l']);
    proof('the first connection to a .socket unit started rkt run; the app answered on the inherited socket', svc, [
      `$ systemctl is-active ${name}.service (before the first connection) -> ${before.stdout.trim()}`,
      `first connection to 127.0.0.1:${port} -> ${first.trim()}`,
      `(second connection) -> ${second.trim()}`,
      ...grepLines(svc.stdout, /Active:|TriggeredBy|rkt run/),
    ]);
  } finally {
    await sh('systemctl', ['stop', `${name}.socket`, `${name}.service`], { timeoutMs: 120_000 });
    await rm(`/run/systemd/system/${name}.socket`, { force: true });
    await rm(`/run/systemd/system/${name}.service`, { force: true });
    await sh('systemctl', ['daemon-reload']);
    await w.cleanup();
  }
});

async function findCgroupFile(root: string, suffix: string): Promise<string | undefined> {
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  const hit = entries.map(String).find((e) => e.endsWith(suffix));
  return hit === undefined ? undefined : join(root, hit);
}

test('limits: over --memory the app is OOM-killed and says so; --cpu shows in cpu.max and in measured usage', { skip, timeout: 900_000 }, async () => {
  const w = await podWork('rkt-vm-limits');
  try {
    // busybox dd allocates its block: 64 MiB of touched memory under a 32 MiB limit (dd is the app's main process)
    const hog = await buildBusyboxAci(w.work, 'example.com/vm-memhog', ['/bin/sh', '-c', `echo ${w.marker} allocating; exec /bin/busybox dd if=/dev/zero of=/dev/null bs=64M count=1`]);
    const args = rktRunArgs(w, 'nspawn', hog);
    const pod = w.track(startBackground(process.execPath, [...args, '--memory=32M']));
    const uuid = await waitForUuid(w, pod, START_MS);
    const done = await pod.proc;
    assert.notEqual(done.exitCode, 0, `the pod should fail:\n${pod.output()}`);
    const status = await rkt(w, ['status', uuid]);
    assert.match(status.stdout, /app-vm-memhog=137/, explain(status));
    // the kernel's own word that its memory cgroup OOM killer did it
    const kernel = await sh('dmesg', []);
    const oom = grepLines(kernel.stdout, /Memory cgroup out of memory|oom-kill:/);
    assert.ok(oom.length > 0, `no OOM kill in the kernel log:\n${kernel.stdout.slice(-3000)}`);
    proof('over its --memory=32M the app is OOM-killed (exit 137, 128+SIGKILL)', status, [
      ...status.stdout.split('\n').filter(Boolean), ...oom, `rkt run exit status: ${String(done.exitCode)}`,
    ]);
    await rkt(w, ['gc', '--grace-period=0s']);

    const spin = await buildBusyboxAci(w.work, 'example.com/vm-spin', ['/bin/sh', '-c', 'while :; do :; done']);
    await rm(w.uuidFile, { force: true }); // the first pod's uuid, which gc removed
    const cpuPod = w.track(startBackground(process.execPath, [...rktRunArgs(w, 'nspawn', spin), '--cpu=100m']));
    const cpuUuid = await waitForUuid(w, cpuPod, START_MS);
    // systemd escapes the "-" of a slice name's own part in the cgroup's name ("-" nests slices)
    const cpuMax = await waitFor(async () => findCgroupFile('/sys/fs/cgroup', 'app-vm\\x2dspin.slice/cpu.max'), START_MS, 1000);
    assert.ok(cpuMax, 'no cgroup app-vm-spin.slice with a cpu.max');
    assert.equal((await readFile(cpuMax, 'utf8')).trim(), '10000 100000');
    const stat = cpuMax.replace(/cpu\.max$/, 'cpu.stat');
    const usage = async (): Promise<number> => Number(/usage_usec (\d+)/.exec(await readFile(stat, 'utf8'))?.[1] ?? 'NaN');
    await sleep(3000);
    const u0 = await usage();
    const t0 = Date.now();
    await sleep(10_000);
    const share = (await usage() - u0) / ((Date.now() - t0) * 1000);
    // a busy loop held to 10% of one CPU (scheduler slack allowed; a loaded VM may give it less)
    assert.ok(share > 0 && share < 0.2, `CPU share ${share.toFixed(3)} outside 0..0.2`);
    proof('--cpu=100m is the app slice\'s cpu.max, and a busy loop uses about 10% of a CPU', { command: `cat ${cpuMax}`, exitCode: 0, stdout: '', stderr: '' }, [
      (await readFile(cpuMax, 'utf8')).trim(),
      `measured over 10 s: ${(share * 100).toFixed(1)}% of one CPU`,
    ]);
    const stopped = await rkt(w, ['stop', '--force', cpuUuid], 60_000);
    assert.equal(stopped.exitCode, 0, explain(stopped));
    const ended = await Promise.race([cpuPod.proc.then(() => true), sleep(90_000).then(() => false)]);
    if (!ended) {
      const ps = await sh('ps', ['-eo', 'pid,ppid,stat,cgroup:80,args', '--forest']);
      assert.fail(`rkt run did not end within 90 s of rkt stop --force:\n${cpuPod.output().slice(-2000)}\n${ps.stdout}`);
    }
  } finally {
    await w.cleanup();
  }
});
