// Nothing is left behind: 100 setup/teardown cycles (default network + a port forward), a stage1 that
// dies (SIGKILL of its whole process group, at random points of setup), and a netns deleted under us.
// Each compares the host's rkt-owned links, routes, iptables/nft rules, IPAM leases and netns with a baseline
// (tests/harness/leak-check: other tests' pods on the machine are ignored).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { setupPodNetworks, teardownPodNetworks } from '../../stage1-shared/networking/index.js';
import { fakePod, fakePodUuids, freePort, netSkipReason, type FakePod } from './net-helpers.js';
import { describeLeaks, settledLeaks, snapshotHost, type HostSnapshot } from '../harness/leak-check.js';

const skip = await netSkipReason();
const networkingModule = fileURLToPath(new URL('../../stage1-shared/networking/index.js', import.meta.url));
let base: HostSnapshot;
let port: number;

async function cycle(p: FakePod, hostPort: number): Promise<void> {
  await setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'default', ports: [{ name: 'http', protocol: 'tcp', hostPort, podPort: 80, count: 1 }] });
  await teardownPodNetworks(p.podDir);
}

async function assertNoLeaks(what = ''): Promise<void> {
  const report = await settledLeaks(base, fakePodUuids());
  assert.deepEqual(report, { leaked: [], vanished: [] }, `${what}\n${describeLeaks(report)}`);
}

before(async () => {
  if (skip !== undefined) return;
  port = await freePort();
  // One warm-up cycle first: the first masquerade rule makes iptables-nft create the (then empty) nat
  // table and its base chains, which it never deletes, and host-local creates its bookkeeping files.
  const p = await fakePod();
  await cycle(p, port);
  await p.cleanup();
  base = await snapshotHost();
});

after(async () => {
  // nothing shared to clean: each test tears down its own pods
});

test('100 setup/teardown cycles leave the host exactly as before', { skip, timeout: 600_000 }, async () => {
  for (let i = 0; i < 100; i++) {
    const p = await fakePod();
    try {
      await cycle(p, port);
    } finally {
      await p.cleanup();
    }
  }
  await assertNoLeaks();
});

test('a stage1 killed during or after setup is cleaned up from the pod dir alone', { skip, timeout: 300_000 }, async () => {
  const delays = [0, 30, 60, 100, 150, 250, 400, 5000];
  for (const delay of delays) {
    const p = await fakePod();
    try {
      const script = path.join(p.root, 'stage1.mjs');
      await writeFile(script, [
        `import { setupPodNetworks } from ${JSON.stringify(networkingModule)};`,
        `await setupPodNetworks({ podDir: ${JSON.stringify(p.podDir)}, uuid: ${JSON.stringify(p.uuid)}, net: 'default',`,
        `  ports: [{ name: 'http', protocol: 'tcp', hostPort: ${port}, podPort: 80, count: 1 }] });`,
        'console.log("up");',
        'setInterval(() => {}, 1000);',
      ].join('\n'));
      // Its own process group, so the kill takes the CNI plugins it is running down with it.
      const child = execa(process.execPath, [script], { detached: true, reject: false });
      await Promise.race([sleep(delay), new Promise((resolve) => child.stdout?.on('data', resolve))]);
      // A script that died on its own (it could not even load the networking code) is a broken test, not a kill.
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      const done = await child;
      assert.ok(done.signal === 'SIGKILL' || done.exitCode === 0, `the fake stage1 died on its own (exit ${String(done.exitCode)}):\n${done.stderr}`);
      await teardownPodNetworks(p.podDir);
      await assertNoLeaks(`killed after ${delay} ms`);
    } finally {
      await p.cleanup();
    }
  }
});

test('teardown after the netns vanished (reboot, manual cleanup) still frees the lease and the rules', { skip }, async () => {
  const p = await fakePod();
  try {
    await setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'default', ports: [{ name: 'http', protocol: 'tcp', hostPort: port, podPort: 80, count: 1 }] });
    await execa('ip', ['netns', 'delete', `rkt-${p.uuid}`]);
    await teardownPodNetworks(p.podDir);
    await assertNoLeaks();
  } finally {
    await p.cleanup();
  }
});
