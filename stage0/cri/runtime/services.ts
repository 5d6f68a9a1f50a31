// The RuntimeService and ImageService handlers: each decodes what it needs from the request, calls the
// runtime, and answers one message or one gRPC status. RPCs not listed answer UNIMPLEMENTED (grpc-js).
import fs from 'node:fs/promises';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { RKT_VERSION } from '../../../common/version.js';
import { invalidArgument, notFound } from '../errors.js';
import { unary, type Req, type UnaryHandler as Handler } from '../../grpc/unary.js';
import type { AuthConfig, ContainerConfig, ImageSpec, LinuxContainerResources, PodSandboxConfig } from '../messages.js';
import type { StreamingServer } from '../streaming/server.js';
import type { CriRuntime } from './context.js';
import {
  containerListItem, containerStatusMessage, createContainer, execSync, listContainers, removeContainer, startContainer, stopContainer, viewContainer,
  type ContainerFilter,
} from './containers.js';
import { requireSandbox } from './cri-pods.js';
import { attachableStreams } from '../../app/attach.js';
import { listPodSandboxes, removePodSandbox, runPodSandbox, sandboxIp, sandboxState, stopPodSandbox, type SandboxFilter } from './sandboxes.js';
import { dateNs } from '../records.js';
import { updateContainerLimits } from './limits.js';
import { StatsReader, type ContainerStatsFilter, type PodSandboxStatsFilter } from './stats.js';

const str = (r: Req, k: string): string => (typeof r[k] === 'string' ? r[k] : '');
const num = (r: Req, k: string): number => Number(r[k] ?? 0);

function requireId(r: Req, k: string, rpc: string): string {
  const v = str(r, k);
  if (v === '') throw invalidArgument(`${rpc}: ${k} is empty`);
  return v;
}

export function runtimeService(rt: CriRuntime, streaming: StreamingServer): UntypedServiceImplementation {
  const u = (name: string, fn: Handler) => unary(name, rt.debug, fn);
  const handlers = [...rt.handlers.keys()].filter((h) => h !== '');
  const stats = new StatsReader(rt);
  return {
    Version: u('Version', async () => ({ version: '0.1.0', runtime_name: 'rkt', runtime_version: RKT_VERSION, runtime_api_version: 'v1' })),
    Status: u('Status', async () => {
      const net = await rt.podNetwork.current();
      const netReady = 'notReady' in net
        ? { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: net.notReady }
        : { type: 'NetworkReady', status: true, reason: '', message: '' };
      return {
        status: { conditions: [
          { type: 'RuntimeReady', status: true, reason: '', message: '' },
          netReady,
        ] },
        info: {},
        runtime_handlers: [{ name: '', features: { recursive_read_only_mounts: false, user_namespaces: false } },
          ...handlers.map((name) => ({ name, features: { recursive_read_only_mounts: false, user_namespaces: false } }))],
      };
    }),
    RuntimeConfig: u('RuntimeConfig', async () => ({ linux: { cgroup_driver: 'CGROUPFS' } })),
    UpdateRuntimeConfig: u('UpdateRuntimeConfig', async () => ({})),

    RunPodSandbox: u('RunPodSandbox', async (r) => ({ pod_sandbox_id: await runPodSandbox(rt, r['config'] as PodSandboxConfig | null, str(r, 'runtime_handler')) })),
    StopPodSandbox: u('StopPodSandbox', async (r) => { await stopPodSandbox(rt, requireId(r, 'pod_sandbox_id', 'StopPodSandbox')); return {}; }),
    RemovePodSandbox: u('RemovePodSandbox', async (r) => { await removePodSandbox(rt, requireId(r, 'pod_sandbox_id', 'RemovePodSandbox')); return {}; }),
    PodSandboxStatus: u('PodSandboxStatus', async (r) => {
      const sb = await requireSandbox(rt.dataDir, requireId(r, 'pod_sandbox_id', 'PodSandboxStatus'));
      const ips = await sandboxIp(sb);
      const mode = sb.record.networkMode;
      return {
        status: {
          id: sb.snap.uuid, metadata: sb.record.metadata, state: sandboxState(sb), created_at: sb.record.createdAt,
          network: { ip: ips[0] ?? '', additional_ips: ips.slice(1).map((ip) => ({ ip })) },
          linux: { namespaces: { options: { network: mode, pid: 'POD', ipc: 'POD', target_id: '' } } },
          labels: sb.record.labels, annotations: sb.record.annotations, runtime_handler: sb.record.runtimeHandler,
        },
        info: r['verbose'] === true ? { pod: JSON.stringify({ uuid: sb.snap.uuid, state: sb.snap.state, dir: sb.snap.dir }) } : {},
        containers_statuses: [],
        timestamp: dateNs(new Date()),
      };
    }),
    ListPodSandbox: u('ListPodSandbox', async (r) => {
      const items = await listPodSandboxes(rt, r['filter'] as SandboxFilter | null);
      return { items: items.map((sb) => ({ id: sb.snap.uuid, metadata: sb.record.metadata, state: sandboxState(sb), created_at: sb.record.createdAt,
        labels: sb.record.labels, annotations: sb.record.annotations, runtime_handler: sb.record.runtimeHandler })) };
    }),

    CreateContainer: u('CreateContainer', async (r) => ({ container_id: await createContainer(rt, requireId(r, 'pod_sandbox_id', 'CreateContainer'), r['config'] as ContainerConfig | null) })),
    StartContainer: u('StartContainer', async (r) => { await startContainer(rt, requireId(r, 'container_id', 'StartContainer')); return {}; }),
    StopContainer: u('StopContainer', async (r) => { await stopContainer(rt, requireId(r, 'container_id', 'StopContainer'), num(r, 'timeout')); return {}; }),
    RemoveContainer: u('RemoveContainer', async (r) => { await removeContainer(rt, requireId(r, 'container_id', 'RemoveContainer')); return {}; }),
    ListContainers: u('ListContainers', async (r) => ({ containers: (await listContainers(rt, r['filter'] as ContainerFilter | null)).map(containerListItem) })),
    ContainerStatus: u('ContainerStatus', async (r) => {
      const c = await rt.containers.require(requireId(r, 'container_id', 'ContainerStatus'));
      return { status: containerStatusMessage(await viewContainer(c, rt.logs)), info: {} };
    }),
    ContainerStats: u('ContainerStats', async (r) => {
      const c = await rt.containers.require(requireId(r, 'container_id', 'ContainerStats'));
      const [one] = await stats.containers({ id: c.record.id, pod_sandbox_id: c.sandbox.snap.uuid, label_selector: {} });
      if (one === undefined) throw notFound(`container ${c.record.id} not found`);
      return { stats: one };
    }),
    ListContainerStats: u('ListContainerStats', async (r) => ({ stats: await stats.containers(r['filter'] as ContainerStatsFilter | null) })),
    PodSandboxStats: u('PodSandboxStats', async (r) => ({ stats: await stats.sandbox(await requireSandbox(rt.dataDir, requireId(r, 'pod_sandbox_id', 'PodSandboxStats'))) })),
    ListPodSandboxStats: u('ListPodSandboxStats', async (r) => ({ stats: await stats.sandboxes(r['filter'] as PodSandboxStatsFilter | null) })),
    UpdateContainerResources: u('UpdateContainerResources', async (r) => {
      const c = await rt.containers.require(requireId(r, 'container_id', 'UpdateContainerResources'));
      await updateContainerLimits(rt, c, (r['linux'] as LinuxContainerResources | null) ?? null);
      return {};
    }),
    ReopenContainerLog: u('ReopenContainerLog', async (r) => {
      const id = requireId(r, 'container_id', 'ReopenContainerLog');
      await rt.containers.require(id);
      if (!rt.logs.reopen(id)) throw invalidArgument(`container ${id} has no log being written (not running, or no log_path)`);
      return {};
    }),
    ExecSync: u('ExecSync', async (r) => execSync(rt, requireId(r, 'container_id', 'ExecSync'), (r['cmd'] as string[] | undefined) ?? [], num(r, 'timeout'))),
    Exec: u('Exec', async (r) => {
      const c = await rt.containers.require(requireId(r, 'container_id', 'Exec'));
      const cmd = (r['cmd'] as string[] | undefined) ?? [];
      if (cmd.length === 0) throw invalidArgument('Exec needs a command');
      return { url: streaming.registerExec({ podUuid: c.sandbox.snap.uuid, app: c.app, cmd, tty: r['tty'] === true, stdin: r['stdin'] === true, stdout: r['stdout'] !== false, stderr: r['stderr'] === true }) };
    }),
    Attach: u('Attach', async (r) => {
      const c = await rt.containers.require(requireId(r, 'container_id', 'Attach'));
      if (r['tty'] === true) throw invalidArgument('Attach: tty is not supported (containers have no terminal)');
      // As containerd: a container created without stdin is attached to for its output only.
      const stdin = r['stdin'] === true && attachableStreams(c.sandbox.manifest, c.app).includes('stdin');
      return { url: streaming.registerAttach({ podUuid: c.sandbox.snap.uuid, app: c.app, tty: false, stdin, stdout: r['stdout'] !== false, stderr: r['stderr'] === true }) };
    }),
    PortForward: u('PortForward', async (r) => {
      const sb = await requireSandbox(rt.dataDir, requireId(r, 'pod_sandbox_id', 'PortForward'));
      return { url: streaming.registerPortForward({ podUuid: sb.snap.uuid, ports: ((r['port'] as number[] | undefined) ?? []).map(Number) }) };
    }),
  };
}

export function imageService(rt: CriRuntime): UntypedServiceImplementation {
  const u = (name: string, fn: Handler) => unary(name, rt.debug, fn);
  const spec = (r: Req): string => ((r['image'] as ImageSpec | null)?.image ?? '');
  return {
    ListImages: u('ListImages', async (r) => {
      const want = ((r['filter'] as { image: ImageSpec | null } | null)?.image?.image) ?? '';
      if (want !== '') {
        const i = await rt.images.find(want);
        return { images: await rt.images.messages(i ? [i] : []) };
      }
      return { images: await rt.images.messages(await rt.images.ociImages()) };
    }),
    // CRI: an image that is not present is an empty answer, not an error.
    ImageStatus: u('ImageStatus', async (r) => {
      const i = await rt.images.find(spec(r));
      return { image: i ? ((await rt.images.messages([i]))[0] ?? null) : null, info: {} };
    }),
    PullImage: u('PullImage', async (r) => {
      const image = spec(r);
      if (image === '') throw invalidArgument('PullImage: image is empty');
      return { image_ref: await rt.images.pull(image, r['auth'] as AuthConfig | null) };
    }),
    RemoveImage: u('RemoveImage', async (r) => { await rt.images.remove(spec(r)); return {}; }),
    ImageFsInfo: u('ImageFsInfo', async () => {
      const images = await rt.images.ociImages();
      const used = images.reduce((n, i) => n + i.size, 0);
      const mountpoint = `${rt.dataDir}/cas`;
      await fs.access(mountpoint).catch(() => { throw notFound(`the image store ${mountpoint} does not exist`); });
      return { image_filesystems: [{ timestamp: dateNs(new Date()), fs_id: { mountpoint }, used_bytes: { value: String(used) }, inodes_used: { value: '0' } }], container_filesystems: [] };
    }),
  };
}
