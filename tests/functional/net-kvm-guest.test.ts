// The VM stage1's plumbing: a tap per CNI interface in the pod netns, redirected both ways with tc.
// A tiny userspace "guest" on the tap (ARP + ICMP echo, in Python) answers the host's pings at the
// pod's address, which proves the path a QEMU NIC would use, without booting a VM.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import { setupPodNetworks, teardownPodNetworks, type PodNetworks } from '../../stage1-shared/networking/index.js';
import { guestNetworkCommands, prepareGuestNics, type GuestNic } from '../../stage1-kvm/networking/kvm-guest.js';
import { fakePod, hostNetState, inNetns, netSkipReason, type FakePod } from './net-helpers.js';

const GUEST_PY = String.raw`
import fcntl, os, socket, struct, sys
tap, mac_s, ip_s = sys.argv[1:4]
fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', tap.encode(), 0x0002 | 0x1000))  # TUNSETIFF, IFF_TAP|IFF_NO_PI
mac = bytes.fromhex(mac_s.replace(':', '')); ip = socket.inet_aton(ip_s)
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
print('ready', flush=True)
while True:
    f = os.read(fd, 65536)
    if f[12:14] == b'\x08\x06' and f[20:22] == b'\x00\x01' and f[38:42] == ip:
        os.write(fd, f[6:12] + mac + b'\x08\x06' + f[14:20] + b'\x00\x02' + mac + ip + f[22:28] + f[28:32])
    elif f[12:14] == b'\x08\x00' and f[23] == 1 and f[30:34] == ip:
        ihl = (f[14] & 15) * 4; p = f[14:]
        icmp = bytearray(p[ihl:struct.unpack('!H', p[2:4])[0]])
        if icmp[0] != 8: continue
        icmp[0] = 0; icmp[2:4] = b'\0\0'; icmp[2:4] = struct.pack('!H', csum(bytes(icmp)))
        h = bytearray(p[:ihl]); h[12:16] = p[16:20]; h[16:20] = p[12:16]; h[8] = 64; h[10:12] = b'\0\0'
        h[10:12] = struct.pack('!H', csum(bytes(h)))
        os.write(fd, f[6:12] + mac + b'\x08\x00' + bytes(h) + bytes(icmp))
`;

async function missingTool(): Promise<string | undefined> {
  for (const t of ['python3', 'busybox']) {
    if ((await execa('sh', ['-c', `command -v ${t}`], { reject: false })).exitCode !== 0) return `needs ${t}`;
  }
  return undefined;
}

const skip = (await netSkipReason()) ?? (await missingTool());
let pod: FakePod;
let res: PodNetworks;
let nics: GuestNic[];

before(async () => {
  if (skip !== undefined) return;
  pod = await fakePod();
  res = await setupPodNetworks({ podDir: pod.podDir, uuid: pod.uuid, net: 'default' });
  nics = await prepareGuestNics({ netnsPath: res.netnsPath ?? '', netInfo: res.netInfo, tapUid: 65534, tapGid: 65534 });
});

after(async () => {
  if (skip !== undefined) return;
  await teardownPodNetworks(pod.podDir);
  await pod.cleanup();
});

test('each CNI interface gets a tap owned by the VM user and the guest config mirrors the netns', { skip }, async () => {
  const info = res.netInfo[0];
  const nic = nics[0];
  assert.ok(info && nic);
  assert.equal(nics.length, 1);
  assert.equal(nic.tapName, 'tap0');
  assert.equal(nic.ip, info.ip);
  assert.equal(nic.mac, info.mac);
  assert.equal(nic.gateway, '172.16.28.1');
  assert.deepEqual(nic.routes.map((r) => r.dst), ['172.16.28.1', 'default', '172.16.28.0/24']);
  const tap = await inNetns(res.netnsPath ?? '', ['ip', '-d', '-j', 'link', 'show', 'tap0']);
  const data = (JSON.parse(tap.stdout) as { linkinfo?: { info_data?: { type?: string; user?: unknown } } }[])[0]?.linkinfo?.info_data;
  assert.equal(data?.type, 'tap');
  assert.ok(data?.user === 65534 || data?.user === 'nobody', `tap owner: ${JSON.stringify(data)}`);
  assert.ok(guestNetworkCommands(nics).some((c) => c.join(' ') === `ip address add ${info.ip}/24 dev eth0 noprefixroute`));
});

test('the host pings a "guest" on the tap at the pod\'s address', { skip, timeout: 60_000 }, async () => {
  const nic = nics[0];
  assert.ok(nic);
  const guest: ResultPromise = execa('nsenter', [`--net=${res.netnsPath ?? ''}`, '--', 'python3', '-c', GUEST_PY, nic.tapName, nic.mac, nic.ip], { reject: false });
  try {
    await new Promise<void>((resolve, reject) => {
      guest.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
      void guest.then((r) => reject(new Error(`guest exited: ${String(r.stderr)}`)));
    });
    const ping = await execa('busybox', ['ping', '-c', '3', '-W', '3', nic.ip], { reject: false });
    assert.equal(ping.exitCode, 0, String(ping.stdout) + String(ping.stderr));
    assert.match(String(ping.stdout), /3 packets transmitted, 3 packets received/);
  } finally {
    guest.kill('SIGKILL');
    await guest;
  }
});

test('teardown also removes the taps (they live in the pod netns)', { skip }, async () => {
  const p = await fakePod();
  try {
    const r = await setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'default' });
    await prepareGuestNics({ netnsPath: r.netnsPath ?? '', netInfo: r.netInfo });
    await prepareGuestNics({ netnsPath: r.netnsPath ?? '', netInfo: r.netInfo }); // idempotent
    await teardownPodNetworks(p.podDir);
    const now = await hostNetState();
    assert.ok(!now.netns.includes(`rkt-${p.uuid}`));
    assert.ok(!now.iptables.includes(p.uuid));
  } finally {
    await p.cleanup();
  }
});
