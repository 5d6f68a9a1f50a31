// kvm pods on CNI networks: the guest gets the pod's address and routes on a virtio NIC (tap in the pod
// netns), the host reaches it at the pod IP, rkt status shows the network, gc removes the netns;
// --net=host is refused (a VM cannot share the host's stack).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { makeKvmHarness, skipReason } from './kvm-helpers.js';

const skip = skipReason();

/** One TCP exchange with host:port: what the server sent before closing, or undefined on failure. */
function fetchLine(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let data = '';
    const timer = setTimeout(() => { sock.destroy(); resolve(undefined); }, 5000);
    sock.on('data', (d: Buffer) => { data += d.toString(); });
    sock.on('error', () => { clearTimeout(timer); resolve(undefined); });
    sock.on('close', () => { clearTimeout(timer); resolve(data); });
  });
}

test('kvm --net=default: the guest has the pod address and a default route; rkt status shows it; gc removes the netns', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const img = await h.image('netinfo', ['/bin/sh', '-c', 'ip addr; ip route']);
    const r = await h.runPod(['--net=default', img], { globals: ['--debug'] });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /inet 172\.16\.28\.\d+\/24/, r.stdout);
    assert.match(r.stdout, /default via 172\.16\.28\.1/, r.stdout);
    const st = await h.rkt(['status', r.uuid]);
    assert.match(st.stdout, /networks=default:ip4=172\.16\.28\.\d+/, st.stdout);
    const gc = await h.rkt(['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.equal(fs.existsSync(`/run/netns/rkt-${r.uuid}`), false);
  } finally {
    await h.teardown();
  }
});

test('kvm --net=default: a guest server is reachable from the host at the pod IP', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const img = await h.image('server', ['/bin/sh', '-c', 'while :; do nc -l -p 8080 -e echo hi-from-vm; done']);
    const pod = await h.startPod(['--net=default', img]);
    const st = await h.rkt(['status', pod.uuid]);
    const ip = /networks=default:ip4=(172\.16\.28\.\d+)/.exec(st.stdout)?.[1];
    assert.ok(ip, st.stdout);
    let got: string | undefined;
    for (let i = 0; i < 30 && !(got ?? '').includes('hi-from-vm'); i++) {
      got = await fetchLine(ip, 8080);
      if (!(got ?? '').includes('hi-from-vm')) await new Promise((res) => setTimeout(res, 1000));
    }
    assert.match(got ?? '', /hi-from-vm/);
  } finally {
    await h.teardown();
  }
});

test('kvm --net=host is refused with a hint', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const img = await h.image('hostnet', ['/bin/true']);
    const r = await h.runPod(['--net=host', img]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /cannot share the host network/);
    assert.match(r.stderr, /--net=default/);
  } finally {
    await h.teardown();
  }
});
