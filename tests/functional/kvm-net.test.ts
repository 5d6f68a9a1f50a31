// kvm pods on CNI networks: the guest gets the pod's address and routes on a virtio NIC (tap in the pod
// netns), the host reaches it at the pod IP, rkt status shows the network, gc removes the netns;
// --net=host is refused (a VM cannot share the host's stack).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeKvmHarness, qemuProcesses, skipReason } from './kvm-helpers.js';
import { describeLeaks, settledLeaks, snapshotHost } from '../harness/leak-check.js';
import { freePort } from './net-helpers.js';
import { execa } from 'execa';

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

test('kvm pods on one bridge network reach each other: a second pod fetches from the first', { skip }, async () => {
  const h = await makeKvmHarness();
  const bridge = `rktkbr${randomBytes(3).toString('hex')}`;
  const subnet = `198.19.${(randomBytes(1)[0] ?? 7) % 250}`;
  try {
    const netd = path.join(h.dirs.localConfig, 'net.d');
    fs.mkdirSync(netd, { recursive: true });
    fs.writeFileSync(path.join(netd, '10-kbr.conf'), JSON.stringify({
      cniVersion: '0.4.0', name: 'kbr', type: 'bridge', bridge, isGateway: true, ipMasq: false,
      // leases in the test's own dir: nothing under /var/lib/cni to clean up
      ipam: { type: 'host-local', subnet: `${subnet}.0/24`, dataDir: path.join(h.dirs.root, 'ipam') },
    }));
    const server = await h.image('bridge-server', ['/bin/sh', '-c', 'while :; do nc -l -p 8080 -e echo hi-from-pod-a; done']);
    const a = await h.startPod(['--net=kbr', server]);
    const st = await h.rkt(['status', a.uuid]);
    const ip = new RegExp(`networks=kbr:ip4=(${subnet.replace(/\./g, '\\.')}\\.\\d+)`).exec(st.stdout)?.[1];
    assert.ok(ip, st.stdout);
    // the server's guest may still be starting its listener: retry for a while inside the client pod
    const client = await h.image('bridge-client', ['/bin/sh', '-c',
      `i=0; while [ $i -lt 30 ]; do out=$(nc ${ip} 8080 </dev/null) && [ -n "$out" ] && { echo "got: $out"; exit 0; }; i=$((i+1)); sleep 1; done; exit 1`]);
    const b = await h.runPod(['--net=kbr', client]);
    assert.equal(b.exitCode, 0, b.stderr);
    assert.match(b.stdout, /got: hi-from-pod-a/);
  } finally {
    await h.teardown();
    // the bridge plugin leaves its bridge for other pods; this one is the test's
    await execa('ip', ['link', 'del', bridge], { reject: false });
  }
});

/** fetchLine, retried while the guest boots and its server comes up. */
async function fetchLineEventually(host: string, port: number, want: string): Promise<string | undefined> {
  let got: string | undefined;
  for (let i = 0; i < 30 && !(got ?? '').includes(want); i++) {
    got = await fetchLine(host, port);
    if (!(got ?? '').includes(want)) await new Promise((res) => setTimeout(res, 1000));
  }
  return got;
}

test('kvm --port: the guest\'s named port is reachable from 127.0.0.1:<hostport>, the host\'s own address, and the pod IP', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const exec = ['/bin/sh', '-c', 'while :; do nc -l -p 8080 -e echo hi-from-vm; done'];
    const img = await h.image('portfwd', exec, {
      manifestExtra: { app: { exec, user: '0', group: '0', ports: [{ name: 'http', protocol: 'tcp', port: 8080 }] } },
    });
    const hostPort = await freePort();
    const pod = await h.startPod(['--net=default', `--port=http:${hostPort}`, img]);
    const st = await h.rkt(['status', pod.uuid]);
    const ip = /networks=default:ip4=(172\.16\.28\.\d+)/.exec(st.stdout)?.[1];
    assert.ok(ip, st.stdout);
    assert.match(await fetchLineEventually(ip, 8080, 'hi-from-vm') ?? '', /hi-from-vm/, 'pod IP');
    assert.match(await fetchLineEventually('127.0.0.1', hostPort, 'hi-from-vm') ?? '', /hi-from-vm/, '127.0.0.1 forward');
    // The host's address on the pod network is one of its local addresses: the forward answers there too.
    assert.match(await fetchLineEventually('172.16.28.1', hostPort, 'hi-from-vm') ?? '', /hi-from-vm/, 'host address forward');
  } finally {
    await h.teardown();
  }
});

/** One app's view of its name-resolution files, printed on one line (apps of a pod print concurrently). */
const SHOW_ETC = 'for f in /etc/resolv.conf /etc/hosts /etc/hostname; do echo "$APP:$(tr "\\n" "|" < $f)"; done';

/** The SHOW_ETC lines of one app (the VM console prefixes each with a timestamp and the app's name). */
function etcLines(stdout: string, app: string): string[] {
  return stdout.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.includes(`: ${app}:`)).map((l) => l.slice(l.indexOf(`: ${app}:`) + 2));
}

test('kvm DNS: the CNI result\'s DNS becomes resolv.conf, --hosts-entry the hosts file, /etc/hostname the pod\'s', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const o = randomBytes(1)[0] ?? 5;
    await fs.promises.mkdir(path.join(h.dirs.localConfig, 'net.d'), { recursive: true });
    await fs.promises.writeFile(path.join(h.dirs.localConfig, 'net.d', '50-dnsnet.conf'), JSON.stringify({
      cniVersion: '0.4.0', name: 'dnsnet', type: 'ptp', ipMasq: false,
      ipam: { type: 'host-local', subnet: `198.18.${o}.0/24`, dataDir: path.join(h.dirs.root, 'ipam') },
      dns: { nameservers: [`198.18.${o}.53`], search: ['cni.test'], options: ['ndots:4'], domain: 'cnidomain.test' },
    }));
    const img = await h.image('cnidns', ['/bin/sh', '-c', `APP=cnidns; ${SHOW_ETC}`]);
    const r = await h.runPod(['--net=dnsnet', '--hosts-entry=198.18.0.9=db.test', img]);
    assert.equal(r.exitCode, 0, r.stderr);
    const [resolv = '', hosts = '', hostname = ''] = etcLines(r.stdout, 'cnidns');
    assert.match(resolv, new RegExp(`nameserver 198\\.18\\.${o}\\.53\\|`), r.stdout);
    assert.match(resolv, /search cni\.test\|/);
    assert.match(resolv, /options ndots:4\|/);
    assert.match(resolv, /domain cnidomain\.test\|/);
    assert.match(hosts, /198\.18\.0\.9\s+db\.test\|/, r.stdout);
    assert.equal(hostname, `cnidns:rkt-${r.uuid}|`);
  } finally {
    await h.teardown();
  }
});

test('kvm DNS: --dns/--dns-search/--dns-opt/--dns-domain make resolv.conf; the default hosts names the pod; an image\'s own hosts stays', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const plain = await h.image('plain', ['/bin/sh', '-c', `APP=plain; ${SHOW_ETC}`]);
    const own = await h.image('ownhosts', ['/bin/sh', '-c', `APP=ownhosts; ${SHOW_ETC}`], { files: { 'etc/hosts': '10.9.9.9 own.test\n' } });
    const r = await h.runPod([
      '--net=default', '--dns=198.18.0.53', '--dns-search=flags.test', '--dns-opt=ndots:2', '--dns-domain=pod.test', '--hostname=kvmpod',
      plain, own,
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    const [resolv = '', hosts = '', hostname = ''] = etcLines(r.stdout, 'plain');
    assert.match(resolv, /nameserver 198\.18\.0\.53\|/, r.stdout);
    assert.match(resolv, /search flags\.test\|/);
    assert.match(resolv, /options ndots:2\|/);
    assert.match(resolv, /domain pod\.test\|/);
    assert.match(hosts, /127\.0\.0\.1\s+localhost.*\bkvmpod\b/, r.stdout);
    assert.equal(hostname, 'plain:kvmpod|');
    const [, ownHosts = ''] = etcLines(r.stdout, 'ownhosts');
    assert.equal(ownHosts, 'ownhosts:10.9.9.9 own.test|');
  } finally {
    await h.teardown();
  }
});

test('kvm teardown: run + gc cycles and a pod whose QEMU was SIGKILLed leave no netns, veth, rule or lease behind', { skip, timeout: 400_000 }, async () => {
  const h = await makeKvmHarness();
  const ours = new Set<string>();
  try {
    const ports = { ports: [{ name: 'http', protocol: 'tcp', port: 8080 }] };
    const short = await h.image('short', ['/bin/true'], { manifestExtra: { app: { exec: ['/bin/true'], user: '0', group: '0', ...ports } } });
    const longExec = ['/bin/sh', '-c', 'sleep 600'];
    const long = await h.image('long', longExec, { manifestExtra: { app: { exec: longExec, user: '0', group: '0', ...ports } } });
    const hostPort = await freePort();
    const base = await snapshotHost();
    for (let i = 0; i < 2; i++) {
      const r = await h.runPod(['--net=default', `--port=http:${hostPort}`, short]);
      ours.add(r.uuid);
      assert.equal(r.exitCode, 0, r.stderr);
      const gc = await h.rkt(['gc', '--grace-period=0s']);
      assert.equal(gc.exitCode, 0, gc.stderr);
    }
    const pod = await h.startPod(['--net=default', `--port=http:${hostPort}`, long]);
    ours.add(pod.uuid);
    const qemu = qemuProcesses(pod.uuid);
    assert.ok(qemu.length > 0, 'no QEMU process found');
    for (const pid of qemu) process.kill(pid, 'SIGKILL');
    await pod.done;
    const gc = await h.rkt(['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    const report = await settledLeaks(base, ours);
    assert.deepEqual(report, { leaked: [], vanished: [] }, describeLeaks(report));
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
