// rkt's image/app grammar: per-app flags bind to the preceding image, `-- args ---`, pod-wide flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePodArgs } from './app-args.js';

test('per-app flags follow their image; -- args --- blocks', () => {
  const p = parsePodArgs('run', [
    '--net=none', '--set-env=A=1', '--mount=volume=v,target=/data', '--volume=v,kind=empty',
    'img1', '--name=one', '--exec=/bin/x', '--environment=B=2', '--', '-a', '--not-a-flag', '---',
    'img2', '--memory=50M', '--caps-retain=CAP_NET_ADMIN,CAP_CHOWN', '--readonly-rootfs', '--user-label=k=v',
  ]);
  assert.equal(p.apps.length, 2);
  assert.deepEqual(p.net, ['none']);
  assert.deepEqual(p.podMounts, [{ volume: 'v', target: '/data' }]);
  assert.equal(p.volumes[0]?.kind, 'empty');
  const [a, b] = p.apps;
  assert.equal(a?.name, 'one');
  assert.equal(a?.exec, '/bin/x');
  assert.deepEqual(a?.args, ['-a', '--not-a-flag']);
  assert.deepEqual(a?.environment, [{ name: 'B', value: '2' }]);
  assert.equal(b?.memory, '50M');
  assert.deepEqual(b?.capsRetain, ['CAP_NET_ADMIN', 'CAP_CHOWN']);
  assert.equal(b?.readonlyRootfs, true);
  assert.deepEqual(b?.userLabels, { k: 'v' });
  assert.deepEqual(p.setEnv, [{ name: 'A', value: '1' }]);
});

test('defaults: --net=default, pull policy new; bare --net means default', () => {
  const p = parsePodArgs('run', ['img']);
  assert.deepEqual(p.net, ['default']);
  assert.equal(p.pullPolicy, 'new');
  assert.deepEqual(parsePodArgs('run', ['--net', 'img']).net, ['default']);
  assert.equal(parsePodArgs('run', ['img', '--', 'x']).apps[0]?.args?.[0], 'x');
});

test('errors name the flag and are usage errors', () => {
  const bad: [string, string[], RegExp][] = [
    ['run', ['--frobnicate', 'img'], /unknown flag --frobnicate/],
    ['run', ['img', '--cpu-shares=lots'], /expected an integer/],
    ['run', ['img', '--seccomp=read,write'], /missing mode=retain\|remove/],
    ['run', ['--stage1-path=/a', '--stage1-name=b', 'img'], /only one stage1 selector/],
    ['run', ['--net=host,default', 'img'], /"host" cannot be combined/],
    ['run-prepared', ['a', 'b'], /exactly one pod uuid/],
    ['run-prepared', ['--exec=/x', 'u'], /not valid for rkt run-prepared/],
    ['prepare', ['--pull-policy=sometimes', 'img'], /invalid --pull-policy/],
  ];
  for (const [cmd, argv, re] of bad) {
    assert.throws(() => parsePodArgs(cmd as 'run', argv), (e: unknown) => e instanceof Error && re.test(e.message) && (e as { exitCode?: number }).exitCode === 2, argv.join(' '));
  }
});

test('run-prepared takes a uuid and runtime flags', () => {
  const p = parsePodArgs('run-prepared', ['--net=none', '--hostname=h', '--dns=1.1.1.1', 'abc']);
  assert.equal(p.uuid, 'abc');
  assert.equal(p.hostname, 'h');
});
