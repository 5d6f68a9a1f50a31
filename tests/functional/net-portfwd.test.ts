// --port forwarding with real nftables: from 127.0.0.1, from a host address pinned with HOSTIP, and from
// "another host" (a client netns we wire to the host with our own veth); refused with host/none.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { setupPodNetworks, teardownPodNetworks, type PodNetworks } from '../../stage1-shared/networking/index.js';
import { fakePod, freePort, hostNetState, listenInNetns, netSkipReason, tcpGet, type FakePod, type Listener } from './net-helpers.js';

const skip = await netSkipReason();
let pod: FakePod;
let res: PodNetworks;
let listener: Listener;
let hostPort: number;
let pinnedPort: number;
const tag = randomBytes(3).toString('hex');
const clientNs = `rkt-test-client-${tag}`;
const hostVeth = `rkttc${tag}`;
// 198.18.0.0/15 is reserved for benchmarking: never a real address on this host.
const octet = randomBytes(1)[0] ?? 7;
const hostSideIP = `198.19.${octet}.1`;
const clientIP = `198.19.${octet}.2`;

async function sh(...argv: string[]): Promise<void> {
  await execa(argv[0] ?? 'false', argv.slice(1));
}

before(async () => {
  if (skip !== undefined) return;
  pod = await fakePod();
  hostPort = await freePort();
  pinnedPort = await freePort();
  res = await setupPodNetworks({
    podDir: pod.podDir,
    uuid: pod.uuid,
    net: 'default',
    ports: [
      { name: 'http', protocol: 'tcp', hostPort, podPort: 8000, count: 1 },
      { name: 'pinned', protocol: 'tcp', hostPort: pinnedPort, hostIP: hostSideIP, podPort: 8000, count: 1 },
    ],
  });
  listener = await listenInNetns(res.netnsPath ?? '', 'fwd-hello', 8000);
  // "Another host": its own netns, reaching this host over a veth pair that only we use.
  await sh('ip', 'netns', 'add', clientNs);
  await sh('ip', 'link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', clientNs);
  await sh('ip', 'addr', 'add', `${hostSideIP}/30`, 'dev', hostVeth);
  await sh('ip', 'link', 'set', hostVeth, 'up');
  await sh('ip', '-n', clientNs, 'addr', 'add', `${clientIP}/30`, 'dev', 'eth0');
  await sh('ip', '-n', clientNs, 'link', 'set', 'eth0', 'up');
  await sh('ip', '-n', clientNs, 'link', 'set', 'lo', 'up');
});

after(async () => {
  if (skip !== undefined) return;
  await listener.stop();
  await teardownPodNetworks(pod.podDir);
  await execa('ip', ['link', 'del', hostVeth], { reject: false });
  await execa('ip', ['netns', 'del', clientNs], { reject: false });
  await pod.cleanup();
});

test('127.0.0.1:<hostport> reaches the pod', { skip }, async () => {
  const got = await tcpGet('127.0.0.1', hostPort);
  // The pod sees the host's address on its network, not 127.0.0.1 (it could not answer that).
  assert.equal(got, 'fwd-hello from 172.16.28.1');
});

test('another host reaches the pod through the host\'s address', { skip }, async () => {
  const got = await tcpGet(hostSideIP, hostPort, `/run/netns/${clientNs}`);
  assert.equal(got, `fwd-hello from ${clientIP}`);
});

test('a forward pinned to one host IP answers there only', { skip }, async () => {
  assert.equal(await tcpGet(hostSideIP, pinnedPort, `/run/netns/${clientNs}`), `fwd-hello from ${clientIP}`);
  await assert.rejects(tcpGet('127.0.0.1', pinnedPort), /failed/);
});

test('the forwards live in the pod\'s own nft table and go away with teardown', { skip }, async () => {
  const p2 = await fakePod();
  try {
    const port = await freePort();
    await setupPodNetworks({ podDir: p2.podDir, uuid: p2.uuid, net: 'default', ports: [{ name: 'x', protocol: 'udp', hostPort: port, podPort: 53, count: 1 }] });
    const table = await execa('nft', ['list', 'table', 'ip', `rkt-${p2.uuid}`]);
    assert.match(String(table.stdout), new RegExp(`udp dport ${port} dnat to 172\\.16\\.28\\.\\d+:53`));
    await teardownPodNetworks(p2.podDir);
    assert.ok(!(await hostNetState()).nft.includes(p2.uuid));
  } finally {
    await p2.cleanup();
  }
});

test('--port is refused with --net=host and --net=none', { skip }, async () => {
  const p = await fakePod();
  try {
    const ports = [{ name: 'http', protocol: 'tcp' as const, hostPort: 1, podPort: 80, count: 1 }];
    await assert.rejects(setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'host', ports }), /--port cannot be used with --net=host/);
    await assert.rejects(setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'none', ports }), /--port cannot be used with --net=none/);
  } finally {
    await p.cleanup();
  }
});
