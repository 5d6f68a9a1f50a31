// The nft ruleset and the masquerade sweep, checked as text (no host changes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPortForwardRuleset } from './port-forward-rules.js';
import { buildIpMasqSweep } from './ipmasq-sweep.js';

test('the ruleset lives in one per-pod table and handles loopback', () => {
  const text = buildPortForwardRuleset('u-1', '172.16.28.9', [
    { name: 'http', protocol: 'tcp', hostPort: 8080, podPort: 80, count: 1 },
    { name: 'dns', protocol: 'udp', hostPort: 5353, hostIP: '10.0.0.1', podPort: 53, count: 2 },
  ]);
  assert.match(text, /^table ip rkt-u-1 \{/);
  assert.match(text, /type nat hook prerouting priority dstnat;[^]*fib daddr type local tcp dport 8080 dnat to 172\.16\.28\.9:80/);
  assert.match(text, /type nat hook output priority -100;[^]*fib daddr type local tcp dport 8080 dnat to 172\.16\.28\.9:80/);
  assert.match(text, /ip daddr 10\.0\.0\.1 udp dport 5353 dnat to 172\.16\.28\.9:53\n/);
  assert.match(text, /ip daddr 10\.0\.0\.1 udp dport 5354 dnat to 172\.16\.28\.9:54\n/);
  assert.match(text, /ip saddr 127\.0\.0\.0\/8 ip daddr 172\.16\.28\.9 tcp dport 80 masquerade/);
  assert.match(text, /ip saddr 127\.0\.0\.0\/8 ip daddr 172\.16\.28\.9 udp dport 53-54 masquerade/);
});

test('the masquerade sweep deletes only the pod\'s CNI rules and chains', () => {
  const save = [
    '*nat',
    ':POSTROUTING ACCEPT [0:0]',
    ':CNI-aaa - [0:0]',
    ':CNI-bbb - [0:0]',
    '-A POSTROUTING -s 172.16.28.2/32 -m comment --comment "name: \\"default\\" id: \\"pod-1\\"" -j CNI-aaa',
    '-A POSTROUTING -s 172.16.28.3/32 -m comment --comment "name: \\"default\\" id: \\"pod-2\\"" -j CNI-bbb',
    '-A CNI-aaa ! -d 224.0.0.0/4 -m comment --comment "name: \\"default\\" id: \\"pod-1\\"" -j MASQUERADE',
    'COMMIT',
  ].join('\n');
  assert.equal(buildIpMasqSweep(save, 'pod-1'), [
    '*nat',
    '-D POSTROUTING -s 172.16.28.2/32 -m comment --comment "name: \\"default\\" id: \\"pod-1\\"" -j CNI-aaa',
    '-F CNI-aaa',
    '-X CNI-aaa',
    'COMMIT',
    '',
  ].join('\n'));
  assert.equal(buildIpMasqSweep(save, 'pod-3'), undefined);
});
