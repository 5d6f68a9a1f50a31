// Teardown through the real CLI and the real nspawn stage1: many `rkt run --net=default --port=...` +
// `rkt gc` cycles, then the host's rkt-owned network state (netns, veths, nft/iptables rules, IPAM leases)
// must be exactly what it was before. RKT_NET_CYCLES overrides the count (default 100). Two workers run
// the cycles side by side (each on its own host port), so teardown also races another pod's setup.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSnapshots, describeLeaks, settledLeaks, snapshotHost, type HostSnapshot } from '../harness/leak-check.js';
import { freePort, netSkipReason } from './net-helpers.js';
import { makeNspawnHarness, skipReason, type NspawnHarness } from './nspawn-helpers.js';

const skip = skipReason() || (await netSkipReason()) || false;
const CYCLES = Number(process.env['RKT_NET_CYCLES'] ?? '100');

let h: NspawnHarness;
let img: string;
const WORKERS = 2;
const hostPorts: number[] = [];
let base: HostSnapshot;
const ours = new Set<string>();

async function cycle(hostPort: number): Promise<void> {
  const r = await h.runPod(['--net=default', `--port=http:${hostPort}`, img]);
  if (r.uuid !== '') ours.add(r.uuid);
  assert.equal(r.exitCode, 0, r.stderr);
  const gc = await h.rkt(['gc', '--grace-period=0s']);
  assert.equal(gc.exitCode, 0, gc.stderr);
}

before(async () => {
  if (skip) return;
  h = await makeNspawnHarness();
  const exec = ['/bin/true'];
  img = await h.image('cycle', exec, {
    manifestExtra: { app: { exec, user: '0', group: '0', ports: [{ name: 'http', protocol: 'tcp', port: 8080 }] } },
  });
  for (let w = 0; w < WORKERS; w++) hostPorts.push(await freePort());
  // One warm-up cycle: the first masquerade rule makes iptables-nft create its (then empty, never
  // deleted) nat chains, and host-local its bookkeeping files.
  await cycle(hostPorts[0] ?? 0);
  base = await snapshotHost();
});

after(async () => {
  if (!skip) await h.teardown();
});

test(`${CYCLES} rkt run --net=default --port + rkt gc cycles leave no netns, veth, rule or lease behind`, { skip, timeout: 900_000 }, async (t) => {
  const started = Date.now();
  let next = 0;
  await Promise.all(hostPorts.map(async (port) => {
    while (next < CYCLES) {
      next++;
      await cycle(port);
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`${CYCLES} cycles in ${seconds.toFixed(1)} s (${(seconds / Math.max(1, CYCLES)).toFixed(2)} s each)`);
  const report = await settledLeaks(base, ours);
  assert.deepEqual(report, { leaked: [], vanished: [] }, describeLeaks(report));
});

test('the leak check sees a pod\'s network while it exists (it is not blind)', { skip }, async () => {
  const exec = ['/bin/sh', '-c', 'sleep 600'];
  const long = await h.image('longrun', exec, {
    manifestExtra: { app: { exec, user: '0', group: '0', ports: [{ name: 'http', protocol: 'tcp', port: 8080 }] } },
  });
  const before = await snapshotHost();
  const pod = await h.startPod(['--net=default', `--port=http:${await freePort()}`, long]);
  ours.add(pod.uuid);
  const during = compareSnapshots(before, await snapshotHost(), ours);
  const kinds = new Set(during.leaked.map((l) => l.split(':')[0]));
  for (const k of ['netns', 'links', 'routes', 'nft', 'iptables', 'leases']) assert.ok(kinds.has(k), `${k} not seen:\n${describeLeaks(during)}`);
  await h.rkt(['stop', '--force', pod.uuid]);
  await pod.done;
  await h.rkt(['gc', '--grace-period=0s']);
  const report = await settledLeaks(before, ours);
  assert.deepEqual(report, { leaked: [], vanished: [] }, describeLeaks(report));
});
