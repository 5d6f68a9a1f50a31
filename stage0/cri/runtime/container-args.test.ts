import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerConfig, Mount, PodSandboxConfig } from '../messages.js';
import { SANDBOX_ANNOTATION, parseSandboxRecord, type SandboxRecord } from '../records.js';
import { appNameFor, containerAddArgs, imageArgument, mountArgs } from './container-args.js';
import { criLogLine } from './container-logs.js';
import { sandboxArgs } from './sandboxes.js';

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    metadata: { name: 'web', attempt: 1 }, image: { image: 'sha512-abc', annotations: {}, user_specified_image: '', runtime_handler: '' },
    command: [], args: [], working_dir: '', envs: [], mounts: [], labels: {}, annotations: {}, log_path: '', stdin: false, stdin_once: false, tty: false, linux: null, ...over,
  };
}

test('app names are appc names made of the CRI name and attempt', () => {
  assert.equal(appNameFor('Web_Server', 2), 'web-server-2');
  assert.equal(appNameFor('---', 0), 'container-0');
});

test('images: store ids pass, references become docker://, other URLs are refused', () => {
  assert.equal(imageArgument('sha512-0123abcd'), 'sha512-0123abcd');
  assert.equal(imageArgument('127.0.0.1:5000/a/b:1'), 'docker://127.0.0.1:5000/a/b:1');
  assert.throws(() => imageArgument('https://x/y.aci'), /registry reference/);
});

test('command replaces the Entrypoint, the rest and args replace Cmd; env, user, limits become app flags', () => {
  const args = containerAddArgs('U', 'web-1', config({
    command: ['/bin/sh', '-c'], args: ['echo hi'], envs: [{ key: 'A', value: Buffer.from('b=c') }], working_dir: '/srv',
    linux: {
      resources: { cpu_period: '100000', cpu_quota: '50000', cpu_shares: '512', memory_limit_in_bytes: '67108864', oom_score_adj: '100' },
      security_context: {
        capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] }, privileged: false, run_as_user: { value: '1000' }, run_as_group: { value: '2000' },
        run_as_username: '', readonly_rootfs: true, supplemental_groups: ['5', '6'], no_new_privs: true, seccomp: null,
      },
    },
  }), 'k=v');
  assert.deepEqual(args, [
    'app', 'add', 'U', 'sha512-abc', '--pull-policy=never', '--name=web-1', '--exec=/bin/sh', '--working-dir=/srv', '--environment=A=b=c',
    '--user=1000', '--group=2000', '--supplementary-gids=5,6', '--readonly-rootfs=true', '--caps-retain=CAP_NET_ADMIN',
    '--memory=67108864', '--cpu=500m', '--cpu-shares=512', '--oom-score-adj=100', '--annotation=k=v', '--', '-c', 'echo hi', '---',
  ]);
});

test('a stdin container is an app with --stdin=stream, stdin_once as --stdin-once', () => {
  const once = containerAddArgs('U', 'a', config({ stdin: true, stdin_once: true }), 'k=v');
  assert.ok(once.includes('--stdin=stream') && once.includes('--stdin-once'));
  const open = containerAddArgs('U', 'a', config({ stdin: true }), 'k=v');
  assert.ok(open.includes('--stdin=stream') && !open.includes('--stdin-once'));
  assert.ok(!containerAddArgs('U', 'a', config({}), 'k=v').some((x) => x.startsWith('--stdin')));
});

test('what rkt cannot do is refused before any change', () => {
  const mount = (over: Partial<Mount>): Mount => ({ container_path: '/data', host_path: '/srv/d', readonly: false, propagation: 'PROPAGATION_PRIVATE', ...over });
  assert.deepEqual(mountArgs('web-0', [mount({}), mount({ container_path: '/etc/conf', host_path: '/srv/c', readonly: true })]), [
    '--mnt-volume=name=web-0-m0,kind=host,source=/srv/d,target=/data,readOnly=false',
    '--mnt-volume=name=web-0-m1,kind=host,source=/srv/c,target=/etc/conf,readOnly=true',
  ]);
  assert.throws(() => mountArgs('a', [mount({ propagation: 'PROPAGATION_BIDIRECTIONAL' })]), /propagation PROPAGATION_BIDIRECTIONAL is not supported/);
  assert.throws(() => mountArgs('a', [mount({ host_path: 'rel' })]), /must be absolute/);
  assert.throws(() => mountArgs('a', [mount({ host_path: '/a,b' })]), /comma/);
  assert.throws(() => containerAddArgs('U', 'a', config({ tty: true }), 'k=v'), /tty/);
  assert.throws(() => containerAddArgs('U', 'a', config({ image: null }), 'k=v'), /image.image is empty/);
});

test('sandbox flags: DNS, hostname, host ports as rkt app sandbox --port, hostNetwork as --net=host', () => {
  const record: SandboxRecord = {
    metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 0 }, labels: {}, annotations: {}, logDirectory: '', runtimeHandler: 'default', networkMode: 'POD', createdAt: '1',
  };
  const cfg: PodSandboxConfig = {
    metadata: record.metadata, hostname: 'h', log_directory: '', labels: {}, annotations: {}, linux: null,
    dns_config: { servers: ['1.1.1.1'], searches: ['s'], options: ['ndots:2'] },
    port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '' }, { protocol: 'UDP', container_port: 53, host_port: 0, host_ip: '' }],
  };
  const args = sandboxArgs(cfg, 'vm', 'default', record);
  assert.deepEqual(args.slice(0, 8), ['app', 'sandbox', '--stage1-image=vm', '--net=default', '--hostname=h', '--dns=1.1.1.1', '--dns-search=s', '--dns-opt=ndots:2']);
  assert.equal(args[8], '--port=cri-0:tcp:80:0.0.0.0:8080');
  assert.equal(args.length, 10);
  const ann = args[9]!;
  assert.ok(ann.startsWith(`--annotation=${SANDBOX_ANNOTATION}=`));
  assert.deepEqual(parseSandboxRecord(ann.slice(`--annotation=${SANDBOX_ANNOTATION}=`.length)), record);
  assert.ok(sandboxArgs(cfg, 'ns', 'default', { ...record, networkMode: 'NODE' }).includes('--net=host'));
  assert.throws(() => parseSandboxRecord('{"metadata":{},"networkMode":"POD"}'), /metadata.name/);
});

test('journal entries become CRI log lines with nanosecond timestamps and the partial flag', () => {
  assert.equal(criLogLine({ MESSAGE: 'hello', __REALTIME_TIMESTAMP: '1700000000123456', PRIORITY: '6' }), '2023-11-14T22:13:20.123456000Z stdout F hello\n');
  assert.equal(criLogLine({ MESSAGE: [104, 105], __REALTIME_TIMESTAMP: '1700000000000001', PRIORITY: '3', _LINE_BREAK: 'line-max' }), '2023-11-14T22:13:20.000001000Z stderr P hi\n');
  assert.equal(criLogLine({ __REALTIME_TIMESTAMP: '1' }), undefined);
});

test('UpdateContainerResources: the limits rkt sets, from the CRI\'s resources', async () => {
  const { limitsFromResources } = await import('./limits.js');
  assert.deepEqual(limitsFromResources({ cpu_period: '100000', cpu_quota: '150000', cpu_shares: '512', memory_limit_in_bytes: '1048576', oom_score_adj: '0' }),
    { memoryMax: 1048576, cpuQuotaPercent: 150, cpuShares: 512 });
  assert.deepEqual(limitsFromResources({ cpu_period: '0', cpu_quota: '-1', cpu_shares: '0', memory_limit_in_bytes: '0', oom_score_adj: '0' }), {});
  assert.deepEqual(limitsFromResources(null), {});
  assert.throws(() => limitsFromResources({ cpu_period: '0', cpu_quota: '0', cpu_shares: '0', memory_limit_in_bytes: '-5', oom_score_adj: '0' }), /negative/);
});
