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

test('app sandbox: pod flags only; annotations and labels are pod-wide; images refused', () => {
  const p = parsePodArgs('app-sandbox', [
    '--net=none', '--volume=data,kind=empty', '--hostname=sb', '--annotation=rkt-ts/sandbox/memory=1Gi', '--user-label=team=a', '--stage1-image=kvm',
  ]);
  assert.equal(p.mutable, true);
  assert.equal(p.apps.length, 0);
  assert.deepEqual(p.podAnnotations, { 'rkt-ts/sandbox/memory': '1Gi' });
  assert.deepEqual(p.podUserLabels, { team: 'a' });
  assert.equal(p.stage1.image, 'kvm');
  assert.throws(() => parsePodArgs('app-sandbox', ['img']), /takes no images/);
  assert.throws(() => parsePodArgs('app-sandbox', ['--exec=/bin/sh']), /not valid for rkt app sandbox/);
  assert.throws(() => parsePodArgs('app-sandbox', ['--set-env=A=1']), /not valid for rkt app sandbox/);
  assert.throws(() => parsePodArgs('app-sandbox', ['--interactive']), /needs an app/);
});

test('app add: a pod uuid, one image, its per-app flags and args', () => {
  const p = parsePodArgs('app-add', ['0f2c7b8e-1111-4222-8333-444455556666', 'img', '--name=web', '--memory=64M', '--', '-x', '---', '--pull-policy=never']);
  assert.equal(p.uuid, '0f2c7b8e-1111-4222-8333-444455556666');
  assert.equal(p.mutable, false);
  assert.equal(p.apps.length, 1);
  assert.equal(p.apps[0]?.name, 'web');
  assert.deepEqual(p.apps[0]?.args, ['-x']);
  assert.equal(p.pullPolicy, 'never');
  assert.throws(() => parsePodArgs('app-add', ['0f2c7b8e-1111-4222-8333-444455556666']), /needs an image/);
  assert.throws(() => parsePodArgs('app-add', ['u', 'a', 'b']), /takes one image/);
  assert.throws(() => parsePodArgs('app-add', ['u', 'img', '--net=none']), /not valid for rkt app add/);
});

test('--stdin=stream and --stdin-once become the app annotations the stage1 reads', () => {
  const p = parsePodArgs('app-add', ['uuid', 'img', '--stdin=stream', '--stdin-once']);
  assert.deepEqual(p.apps[0]?.annotations, { 'coreos.com/rkt/stage2/stdin': 'stream', 'rkt-ts/stage2/stdin-once': 'true' });
  assert.deepEqual(parsePodArgs('run', ['img', '--stdin=null']).apps[0]?.annotations, { 'coreos.com/rkt/stage2/stdin': 'null' });
  assert.throws(() => parsePodArgs('run', ['img', '--stdin=tty']), /expected null or stream/);
  assert.throws(() => parsePodArgs('run', ['img', '--stdin-once']), /--stdin-once needs --stdin=stream/);
  assert.throws(() => parsePodArgs('run', ['--interactive', 'img', '--stdin=stream']), /choose one/);
});
