// planPodEtc: which resolv.conf/hosts files a pod gets per mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planPodEtc, type PodEtcInput } from './pod-etc.js';

const base: PodEtcInput = {
  mode: { resolv: 'default', hosts: 'default' }, hostname: 'pod1', hostNetwork: false, stage0Resolv: false, stage0Hosts: false,
};

test('default mode: CNI DNS becomes resolv.conf; hosts is a fallback naming the hostname', () => {
  const p = planPodEtc({ ...base, cniDns: { nameservers: ['10.0.0.53'], search: ['pod.test'], options: ['ndots:3'] } });
  assert.deepEqual(p.binds, [
    { source: '/etc/hostname', target: '/etc/hostname' },
    { source: '/etc/rkt-resolv.conf', target: '/etc/resolv.conf' },
  ]);
  const resolv = p.files.find((f) => f.path === '/etc/rkt-resolv.conf')?.content ?? '';
  assert.match(resolv, /^nameserver 10\.0\.0\.53$/m);
  assert.match(resolv, /^search pod\.test$/m);
  assert.match(resolv, /^options ndots:3$/m);
  assert.deepEqual(p.hostsFallback, { source: '/etc/rkt-hosts-fallback', target: '/etc/hosts' });
  assert.match(p.files.find((f) => f.path === '/etc/rkt-hosts-fallback')?.content ?? '', /^127\.0\.0\.1\s+localhost.* pod1$/m);
});

test('default mode without CNI DNS keeps the image\'s resolv.conf, unless the pod is on the host network', () => {
  const own = planPodEtc({ ...base, cniDns: { nameservers: [], search: [], options: [] }, hostResolvConf: 'nameserver 1.1.1.1\n' });
  assert.ok(!own.binds.some((b) => b.target === '/etc/resolv.conf'));
  const hostNet = planPodEtc({ ...base, hostNetwork: true, hostResolvConf: 'nameserver 1.1.1.1\n' });
  assert.equal(hostNet.files.find((f) => f.path === '/etc/rkt-resolv.conf')?.content, 'nameserver 1.1.1.1\n');
});

test('stage0 modes bind what stage0 wrote (when it did); none keeps the image file even with CNI DNS', () => {
  const p = planPodEtc({ ...base, mode: { resolv: 'stage0', hosts: 'stage0' }, stage0Resolv: true, stage0Hosts: true });
  assert.deepEqual(p.files, []);
  assert.deepEqual(p.binds.map((b) => `${b.source}>${b.target}`), ['/etc/hostname>/etc/hostname', '/etc/rkt-resolv.conf>/etc/resolv.conf', '/etc/rkt-hosts>/etc/hosts']);
  assert.equal(p.hostsFallback, undefined);
  const missing = planPodEtc({ ...base, mode: { resolv: 'stage0', hosts: 'stage0' } });
  assert.equal(missing.binds.length, 1);
  const none = planPodEtc({ ...base, mode: { resolv: 'none', hosts: 'default' }, cniDns: { nameservers: ['10.0.0.53'], search: [], options: [] } });
  assert.ok(!none.binds.some((b) => b.target === '/etc/resolv.conf'));
});

test('host modes copy the host\'s files', () => {
  const p = planPodEtc({ ...base, mode: { resolv: 'host', hosts: 'host' }, hostResolvConf: 'nameserver 9.9.9.9\n', hostHosts: '10.1.1.1 h\n' });
  assert.equal(p.files.find((f) => f.path === '/etc/rkt-resolv.conf')?.content, 'nameserver 9.9.9.9\n');
  assert.equal(p.files.find((f) => f.path === '/etc/rkt-hosts')?.content, '10.1.1.1 h\n');
  assert.ok(p.binds.some((b) => b.source === '/etc/rkt-hosts' && b.target === '/etc/hosts'));
});
