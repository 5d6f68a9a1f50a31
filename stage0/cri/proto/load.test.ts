// The CRI runtime.v1 .proto as grpc-js sees it: every upstream rpc with its path and streaming
// kind, and a sample of field numbers pinned by encoding against hand-built wire bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { criMethodNames, criProtoPath, loadCriPackage } from './load.js';

// Upstream k8s.io/cri-api pkg/apis/runtime/v1/api.proto, in its order; `true` marks the
// server-streaming rpcs (none is client-streaming).
const RUNTIME_RPCS: [string, boolean][] = [
  ['Version', false], ['RunPodSandbox', false], ['StopPodSandbox', false], ['RemovePodSandbox', false],
  ['PodSandboxStatus', false], ['ListPodSandbox', false], ['StreamPodSandboxes', true],
  ['CreateContainer', false], ['StartContainer', false], ['StopContainer', false], ['RemoveContainer', false],
  ['ListContainers', false], ['StreamContainers', true], ['ContainerStatus', false],
  ['UpdateContainerResources', false], ['ReopenContainerLog', false], ['ExecSync', false], ['Exec', false],
  ['Attach', false], ['PortForward', false], ['ContainerStats', false], ['ListContainerStats', false],
  ['StreamContainerStats', true], ['PodSandboxStats', false], ['ListPodSandboxStats', false],
  ['StreamPodSandboxStats', true], ['UpdateRuntimeConfig', false], ['Status', false],
  ['CheckpointContainer', false], ['CheckpointPod', false], ['RestorePod', false], ['GetContainerEvents', true],
  ['ListMetricDescriptors', false], ['ListPodSandboxMetrics', false], ['StreamPodSandboxMetrics', true],
  ['RuntimeConfig', false], ['UpdatePodSandboxResources', false],
];
const IMAGE_RPCS: [string, boolean][] = [
  ['ListImages', false], ['StreamImages', true], ['ImageStatus', false], ['PullImage', false],
  ['RemoveImage', false], ['ImageFsInfo', false],
];

// A tiny protobuf writer for the expected bytes.
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const vint = (field: number, n: number | bigint): number[] => [...key(field, 0), ...varint(n)];
const len = (field: number, body: number[]): number[] => [...key(field, 2), ...varint(body.length), ...body];
const str = (field: number, s: string): number[] => len(field, [...Buffer.from(s)]);
const hex = (bytes: number[] | Buffer): string => Buffer.from(bytes).toString('hex');

function rpc(service: ServiceDefinition, name: string): MethodDefinition<any, any> {
  const m = service[name];
  assert.ok(m, `rpc ${name} missing`);
  return m;
}
const runtimeRpc = (name: string) => rpc(loadCriPackage().runtime, name);
const imageRpc = (name: string) => rpc(loadCriPackage().image, name);

test('the .proto is found and both services carry exactly the upstream rpcs', () => {
  assert.ok(existsSync(criProtoPath()), criProtoPath());
  const names = criMethodNames();
  assert.deepEqual(names.runtime, RUNTIME_RPCS.map(([n]) => n));
  assert.deepEqual(names.image, IMAGE_RPCS.map(([n]) => n));
});

test('rpc paths and streaming kinds', () => {
  for (const [service, rpcs, svcName] of [
    [loadCriPackage().runtime, RUNTIME_RPCS, 'RuntimeService'],
    [loadCriPackage().image, IMAGE_RPCS, 'ImageService'],
  ] as const) {
    for (const [name, serverStreaming] of rpcs) {
      const m = rpc(service, name);
      assert.equal(m.path, `/runtime.v1.${svcName}/${name}`);
      assert.equal(m.requestStream, false, name);
      assert.equal(m.responseStream, serverStreaming, name);
    }
  }
  assert.equal(runtimeRpc('GetContainerEvents').responseStream, true);
});

test('VersionRequest.version is field 1', () => {
  assert.equal(hex(runtimeRpc('Version').requestSerialize({ version: 'x' })), '0a0178');
  assert.equal(runtimeRpc('Version').requestDeserialize(Buffer.from([0x0a, 0x01, 0x78])).version, 'x');
});

test('RunPodSandboxRequest: runtime_handler 2; config.metadata name 1, uid 2, namespace 3, attempt 4', () => {
  const m = runtimeRpc('RunPodSandbox');
  assert.equal(hex(m.requestSerialize({ runtime_handler: 'kvm' })), '12036b766d');
  const metadata = [...str(1, 'a'), ...str(2, 'b'), ...str(3, 'c'), ...vint(4, 4)];
  const bytes = m.requestSerialize({ config: { metadata: { name: 'a', uid: 'b', namespace: 'c', attempt: 4 } } });
  assert.equal(hex(bytes), hex(len(1, len(1, metadata))));
  const back = m.requestDeserialize(bytes);
  assert.deepEqual(back.config.metadata, { name: 'a', uid: 'b', namespace: 'c', attempt: 4 });
  assert.equal(back.runtime_handler, '');
});

test('PodSandboxConfig: hostname 2, log_directory 3, port_mappings 5, linux 8 (cgroup_parent 1)', () => {
  const bytes = runtimeRpc('RunPodSandbox').requestSerialize({
    config: {
      hostname: 'h',
      log_directory: '/l',
      port_mappings: [{ protocol: 'UDP', container_port: 53, host_port: 5353 }],
      linux: { cgroup_parent: '/cg' },
    },
  });
  const mapping = [...vint(1, 1), ...vint(2, 53), ...vint(3, 5353)];
  const config = [...str(2, 'h'), ...str(3, '/l'), ...len(5, mapping), ...len(8, str(1, '/cg'))];
  assert.equal(hex(bytes), hex(len(1, config)));
});

test('ContainerConfig: image 2, command 3, args 4, working_dir 5, envs 6, mounts 7, log_path 11, linux 15', () => {
  const m = runtimeRpc('CreateContainer');
  const bytes = m.requestSerialize({
    pod_sandbox_id: 'p',
    config: {
      image: { image: 'img' },
      command: ['c'],
      args: ['a1', 'a2'],
      working_dir: '/w',
      envs: [{ key: 'K', value: Buffer.from('V') }],
      mounts: [{ container_path: '/m', host_path: '/h', readonly: true }],
      log_path: 'log',
      linux: {},
    },
  });
  const config = [
    ...len(2, str(1, 'img')),
    ...str(3, 'c'),
    ...str(4, 'a1'),
    ...str(4, 'a2'),
    ...str(5, '/w'),
    ...len(6, [...str(1, 'K'), ...str(2, 'V')]),
    ...len(7, [...str(1, '/m'), ...str(2, '/h'), ...vint(3, 1)]),
    ...str(11, 'log'),
    ...len(15, []),
  ];
  assert.equal(hex(bytes), hex([...str(1, 'p'), ...len(2, config)]));
  const back = m.requestDeserialize(bytes);
  assert.deepEqual(back.config.args, ['a1', 'a2']);
  assert.ok(Buffer.isBuffer(back.config.envs[0].value));
  assert.equal(back.config.mounts[0].propagation, 'PROPAGATION_PRIVATE');
});

test('LinuxContainerSecurityContext: run_as_user 5 and run_as_group 12 are Int64Value{value 1}', () => {
  const m = runtimeRpc('CreateContainer');
  const bytes = m.requestSerialize({
    config: { linux: { security_context: { run_as_user: { value: 1000 }, run_as_group: { value: '0' } } } },
  });
  // The wrapper's presence carries "gid 0"; protobufjs also writes a zero it was handed explicitly.
  const sc = [...len(5, vint(1, 1000)), ...len(12, vint(1, 0))];
  assert.equal(hex(bytes), hex(len(2, len(15, len(2, sc)))));
  const back = m.requestDeserialize(bytes);
  assert.deepEqual(back.config.linux.security_context.run_as_user, { value: '1000' });
  assert.deepEqual(back.config.linux.security_context.run_as_group, { value: '0' });
});

test('ExecSyncRequest: container_id 1, cmd 2, timeout 3; ExecSyncResponse exit_code 3', () => {
  const m = runtimeRpc('ExecSync');
  assert.equal(
    hex(m.requestSerialize({ container_id: 'c', cmd: ['a', 'b'], timeout: 5 })),
    hex([...str(1, 'c'), ...str(2, 'a'), ...str(2, 'b'), ...vint(3, 5)]),
  );
  const res = m.responseDeserialize(Buffer.from([...str(1, 'out'), ...vint(3, 7)]));
  assert.equal(res.stdout.toString(), 'out');
  assert.equal(res.stderr.length, 0);
  assert.equal(res.exit_code, 7);
});

test('AttachRequest has stdin 2 before tty 3, unlike ExecRequest (tty 3, stdin 4)', () => {
  assert.equal(hex(runtimeRpc('Attach').requestSerialize({ stdin: true, tty: true })), hex([...vint(2, 1), ...vint(3, 1)]));
  assert.equal(hex(runtimeRpc('Exec').requestSerialize({ tty: true, stdin: true })), hex([...vint(3, 1), ...vint(4, 1)]));
});

test('int64 timestamps past 2^53 arrive exact, as decimal strings; enums as names', () => {
  const ns = 1_800_000_000_000_000_123n;
  const status = [...str(1, 'pod'), ...vint(3, 1), ...vint(4, ns)];
  const res = runtimeRpc('PodSandboxStatus').responseDeserialize(Buffer.from([...len(1, status), ...vint(4, ns)]));
  assert.equal(res.status.id, 'pod');
  assert.equal(res.status.state, 'SANDBOX_NOTREADY');
  assert.equal(res.status.created_at, ns.toString());
  assert.equal(res.timestamp, ns.toString());
  const bytes = runtimeRpc('PodSandboxStatus').responseSerialize({ timestamp: ns.toString() });
  assert.equal(hex(bytes), hex(vint(4, ns)));
});

test('defaults: unset scalars are zero values, unset messages null', () => {
  const res = runtimeRpc('PodSandboxStatus').responseDeserialize(Buffer.alloc(0));
  assert.equal(res.status, null);
  assert.equal(res.timestamp, '0');
  assert.deepEqual(res.info, {});
  assert.deepEqual(res.containers_statuses, []);
});

test('ContainerStatus: exit_code 7, log_path 15, stop_signal 19 (enum Signal)', () => {
  const status = [...vint(3, 2), ...vint(7, 137), ...str(15, '/log'), ...vint(19, 23)];
  const res = runtimeRpc('ContainerStatus').responseDeserialize(Buffer.from(len(1, status)));
  assert.equal(res.status.state, 'CONTAINER_EXITED');
  assert.equal(res.status.exit_code, 137);
  assert.equal(res.status.log_path, '/log');
  assert.equal(res.status.stop_signal, 'SIGNAL_SIGTERM');
});

test('GetContainerEvents streams ContainerEventResponse: event type 2, created_at 3', () => {
  const ev = runtimeRpc('GetContainerEvents').responseDeserialize(
    Buffer.from([...str(1, 'ctr'), ...vint(2, 2), ...vint(3, 42)]),
  );
  assert.equal(ev.container_id, 'ctr');
  assert.equal(ev.container_event_type, 'CONTAINER_STOPPED_EVENT');
  assert.equal(ev.created_at, '42');
  assert.equal(ev.pod_sandbox_status, null);
});

test('PullImageRequest: image 1 (ImageSpec.user_specified_image 18), auth 2 (registry_token 6)', () => {
  const bytes = imageRpc('PullImage').requestSerialize({
    image: { image: 'a', user_specified_image: 'b' },
    auth: { username: 'u', registry_token: 't' },
  });
  assert.equal(hex(bytes), hex([...len(1, [...str(1, 'a'), ...str(18, 'b')]), ...len(2, [...str(1, 'u'), ...str(6, 't')])]));
  assert.equal(imageRpc('PullImage').responseDeserialize(Buffer.from(str(1, 'sha256:x'))).image_ref, 'sha256:x');
});

test('Mount keeps the camelCase uidMappings (6) and gidMappings (7)', () => {
  const m = runtimeRpc('CreateContainer');
  const mapping = [...vint(1, 100000), ...vint(2, 0), ...vint(3, 65536)]; // an explicit 0 is written too
  const bytes = m.requestSerialize({
    config: { mounts: [{ uidMappings: [{ host_id: 100000, container_id: 0, length: 65536 }] }] },
  });
  assert.equal(hex(bytes), hex(len(2, len(7, len(6, mapping)))));
  assert.deepEqual(m.requestDeserialize(bytes).config.mounts[0].gidMappings, []);
});
