// Unit tests for CNI result parsing across spec versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstIPv4, mergeCniDns, parseCniResult, prefixToMask } from './cni-result.js';

test('0.4.0 / 1.0.0 results', () => {
  const r = parseCniResult(JSON.stringify({
    cniVersion: '0.4.0',
    interfaces: [{ name: 'veth1', mac: 'aa:bb:cc:dd:ee:01' }, { name: 'eth0', mac: 'aa:bb:cc:dd:ee:02', sandbox: '/run/netns/x' }],
    ips: [{ version: '4', interface: 1, address: '172.16.28.5/24', gateway: '172.16.28.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: { nameservers: ['10.0.0.53'], search: ['example.com'] },
  }), 'default');
  assert.equal(r.interfaces[1]?.sandbox, '/run/netns/x');
  assert.deepEqual(firstIPv4(r), { ip: '172.16.28.5', prefix: 24, gateway: '172.16.28.1' });
  assert.deepEqual(r.routes, [{ dst: '0.0.0.0/0' }]);
  assert.deepEqual(r.dns, { nameservers: ['10.0.0.53'], search: ['example.com'], options: [] });
});

test('0.2.0 results (ip4 block)', () => {
  const r = parseCniResult('{"ip4":{"ip":"10.1.0.7/16","gateway":"10.1.0.1","routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}]}}', 'n');
  assert.deepEqual(firstIPv4(r), { ip: '10.1.0.7', prefix: 16, gateway: '10.1.0.1' });
  assert.deepEqual(r.routes, [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }]);
});

test('malformed results are rejected with the field', () => {
  assert.throws(() => parseCniResult('nope', 'n'), /network "n": invalid CNI plugin result: not JSON/);
  assert.throws(() => parseCniResult('{"ips":[{"address":"10.0.0.1"}]}', 'n'), /ips\[0\]\.address must be a CIDR/);
  assert.throws(() => parseCniResult('{"interfaces":[],"ips":[{"address":"10.0.0.1/8","interface":3}]}', 'n'), /ips\[0\]\.interface must index interfaces/);
  assert.throws(() => parseCniResult('{"ips":[],"routes":[{"dst":"x"}]}', 'n'), /routes\[0\]\.dst must be a CIDR/);
  assert.throws(() => parseCniResult('{"dns":{"nameservers":[1]}}', 'n'), /dns\.nameservers must be a list of strings/);
});

test('prefixToMask', () => {
  assert.equal(prefixToMask(24), '255.255.255.0');
  assert.equal(prefixToMask(16), '255.255.0.0');
  assert.equal(prefixToMask(32), '255.255.255.255');
  assert.equal(prefixToMask(0), '0.0.0.0');
  assert.equal(prefixToMask(20), '255.255.240.0');
});

test('mergeCniDns merges the DNS of every network, in order (what the pod\'s resolv.conf gets)', () => {
  assert.deepEqual(mergeCniDns([]), { nameservers: [], search: [], options: [] });
  const a = parseCniResult(JSON.stringify({ cniVersion: '0.4.0', ips: [], dns: { nameservers: ['10.0.0.1'], search: ['a.test'] } }), 'a').dns;
  const b = parseCniResult(JSON.stringify({ cniVersion: '0.4.0', dns: { nameservers: ['10.0.0.2', '10.0.0.1'], domain: 'b.test' } }), 'b').dns;
  assert.deepEqual(mergeCniDns([a, b]), { nameservers: ['10.0.0.1', '10.0.0.2'], search: ['a.test'], options: [], domain: 'b.test' });
});
