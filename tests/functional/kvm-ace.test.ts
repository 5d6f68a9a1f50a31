// appc executor conformance, kvm stage1: with --mds-register the apps and their event handlers in the VM
// get AC_METADATA_URL (the host side of the pod's first network, the service's port, the pod's token) and
// reach the real metadata service; with --net=none there is no host address, so no AC_METADATA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { rktBin, type RktDirs } from '../harness/aci.js';
import { makeKvmHarness, skipReason } from './kvm-helpers.js';

const skip = skipReason();

/**
 * A real `rkt metadata-service` on all addresses: the guest reaches the host only through the pod network's
 * host side, whose address CNI picks while the pod starts. Resolves with its port and a stop function.
 */
async function startWildcardService(dirs: RktDirs): Promise<{ port: number; stop(): Promise<void> }> {
  const proc = execa(process.execPath, [rktBin(), ...dirs.globalArgs(), 'metadata-service', '--listen-port=0', '--listen-address=0.0.0.0'], {
    reject: false, stdin: 'ignore', buffer: true,
  });
  let err = '';
  proc.stderr.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    proc.stderr.on('data', (d: string) => {
      err += d;
      const m = /listening on 0\.0\.0\.0:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    void proc.then((r) => reject(new Error(`metadata-service exited ${r.exitCode}: ${err}`)));
  });
  return { port, async stop() { proc.kill('SIGTERM'); await proc; } };
}

/** Shell that prints the URL and the pod uuid the service returns, each line tagged. */
function probe(tag: string): string {
  return `echo "${tag}-url=\${AC_METADATA_URL-unset}"; `
    + `echo "${tag}-uuid=$(busybox wget -q -O - --header 'Metadata-Flavor: AppContainer' "$AC_METADATA_URL/acMetadata/v1/pod/uuid")"`;
}

/** The cpu.weight of the app's slice (the guest's own cgroup2 tree enforces --cpu-shares). */
const WEIGHT = 'echo "main-weight=$(cat /sys/fs/cgroup$(dirname "$(sed -n "s/^0:://p" /proc/self/cgroup)")/cpu.weight)"';

test('kvm --mds-register: apps and event handlers get AC_METADATA_URL and read their pod uuid; warm-up and cpu-shares', { skip }, async () => {
  const h = await makeKvmHarness();
  const svc = await startWildcardService(h.dirs);
  try {
    const img = await h.image('mdsapp', ['/bin/sh', '-c', probe('main')], {
      manifestExtra: {
        app: {
          exec: ['/bin/sh', '-c', `${probe('main')}; ${WEIGHT}`], user: '0', group: '0',
          eventHandlers: [{ name: 'pre-start', exec: ['/bin/sh', '-c', probe('prestart')] }],
        },
      },
    });
    const r = await h.runPod(['--net=default', '--mds-register', img, '--cpu-shares=512']);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const logs = await h.rkt(['logs', r.uuid]);
    const all = `${r.stdout}\n${logs.stdout}`;
    for (const tag of ['prestart', 'main']) {
      assert.match(all, new RegExp(`${tag}-url=http://172\\.16\\.28\\.1:${svc.port}/[^/\\s]+`), all);
      assert.match(all, new RegExp(`${tag}-uuid=${r.uuid}`), all);
    }
    // the warm-up ran before the apps and logged its requests; 512 shares = cgroup2 weight 50
    assert.match(all, /metadata service warm-up 1: HTTP\/1\.1 200 OK in \d+ ms/, all);
    assert.match(all, /main-weight=50\b/, all);
    const gc = await h.rkt(['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, gc.stderr);
  } finally {
    await svc.stop();
    await h.teardown();
  }
});

test('kvm --mds-register --net=none: no host address, so the apps get no AC_METADATA_URL', { skip }, async () => {
  const h = await makeKvmHarness();
  const svc = await startWildcardService(h.dirs);
  try {
    const img = await h.image('nomds', ['/bin/sh', '-c', 'echo "url=${AC_METADATA_URL-unset}"']);
    const r = await h.runPod(['--net=none', '--mds-register', img]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /url=unset/, r.stdout);
  } finally {
    await svc.stop();
    await h.teardown();
  }
});

test('kvm: the guest kernel enforces the limits: --memory is memory.max and over it the app is OOM-killed (137); --cpu is cpu.max and caps the usage', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const slice = (f: string): string => `cat /sys/fs/cgroup$(dirname "$(sed -n "s/^0:://p" /proc/self/cgroup)")/${f}`;
    // busybox dd allocates its 64 MiB block and touches all of it: over a 32 MiB limit
    const hog = await h.image('hog', ['/bin/sh', '-c', `echo "hog-max=$(${slice('memory.max')})"; exec /bin/busybox dd if=/dev/zero of=/dev/null bs=64M count=1`]);
    // 3 s of spinning under a 10% quota: at most 10 ms per 100 ms period, 300 ms; the slice's usage counted
    // over the spin alone (not the shell's start, slow under TCG), with slack for a TCG guest's clock. An
    // unlimited spin would use most of the 3 s.
    const usageCmd = `sed -n 's/^usage_usec //p' "$(dirname "$(sed -n "s/^0:://p" /proc/self/cgroup)" | sed 's|^|/sys/fs/cgroup|')/cpu.stat"`;
    const spin = `u0=$(${usageCmd}); busybox timeout 3 sh -c 'while :; do :; done'; u1=$(${usageCmd}); echo "quota-usage=$((u1 - u0))"`;
    const quota = await h.image('quota', ['/bin/sh', '-c', `echo "quota-max=$(${slice('cpu.max')})"; ${spin}`]);
    const r = await h.runPod(['--net=none', hog, '--memory=32M', quota, '--cpu=100m']);
    const logs = await h.rkt(['logs', r.uuid]);
    const all = `${r.stdout}\n${logs.stdout}`;
    // appc quantities are decimal: 32M is 32,000,000 bytes, which the kernel rounds down to whole pages
    assert.match(all, /hog-max=31997952\b/, all);
    assert.equal(r.exitCode, 137, `the pod's exit is the killed app's: ${r.stderr}`);
    const status = await h.rkt(['status', r.uuid]);
    assert.match(status.stdout, /app-hog=137/, status.stdout);
    assert.match(all, /quota-max=10000 100000\b/, all);
    const usage = Number(/quota-usage=([0-9]+)/.exec(all)?.[1] ?? NaN);
    assert.ok(usage > 0 && usage <= 750_000, `3 s of spinning under --cpu=100m used ${usage} us of CPU:\n${all}`);
  } finally {
    await h.teardown();
  }
});
