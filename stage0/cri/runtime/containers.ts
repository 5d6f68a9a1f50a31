// Containers are the apps of a sandbox pod: created with `rkt app add`, run with `rkt app start/stop`, gone with
// `rkt app rm`. Their state is the app's own files (readAppStatus), their identity a derived id.
import fs from 'node:fs/promises';
import path from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { readAppStatus, type AppStatus } from '../../app/app-state.js';
import { CriError, failedPrecondition, invalidArgument } from '../errors.js';
import type { ContainerConfig, ContainerStateName, StringMap } from '../messages.js';
import { CONTAINER_ANNOTATION, dateNs, nowNs, type ContainerRecord } from '../records.js';
import type { CriRuntime } from './context.js';
import type { ContainerLogs } from './container-logs.js';
import { appNameFor, containerAddArgs } from './container-args.js';
import { containerIdFor, containersOf, listSandboxes, readSandbox, requireSandbox, type CriContainer } from './cri-pods.js';
import { matchesLabels } from './sandboxes.js';

export async function createContainer(rt: CriRuntime, sandboxId: string, cfg: ContainerConfig | null): Promise<string> {
  if (cfg === null || cfg.metadata === null || cfg.metadata.name === '') throw invalidArgument('CreateContainer needs a config with metadata.name');
  const sb = await requireSandbox(rt.dataDir, sandboxId);
  if (sb.snap.state !== 'running') throw failedPrecondition(`pod sandbox ${sandboxId} is ${sb.snap.state}, not ready`);
  const app = appNameFor(cfg.metadata.name, cfg.metadata.attempt);
  if (sb.manifest.apps.some((a) => a.name === app)) {
    throw new CriError(GrpcStatus.ALREADY_EXISTS, `container "${cfg.metadata.name}" attempt ${cfg.metadata.attempt} already exists in pod sandbox ${sandboxId}`);
  }
  const image = cfg.image?.image ?? '';
  const imageRef = await rt.images.resolveLocal(image);
  if (imageRef === undefined) throw new CriError(GrpcStatus.NOT_FOUND, `image "${image}" is not present: pull it first (PullImage)`);
  const record: ContainerRecord = {
    id: containerIdFor(sb.snap.uuid, app),
    metadata: { name: cfg.metadata.name, attempt: cfg.metadata.attempt },
    image,
    imageRef,
    labels: { ...cfg.labels },
    annotations: { ...cfg.annotations },
    logPath: cfg.log_path === '' ? '' : path.resolve(sb.record.logDirectory || '/', cfg.log_path),
    mounts: cfg.mounts.map((m) => ({ ...m })),
    createdAt: nowNs(),
  };
  // kubelet's hostPath volumes and its per-pod files exist already; a missing directory is made, as
  // containerd and Docker do, so a fresh emptyDir-like path works.
  for (const m of cfg.mounts) {
    if (path.isAbsolute(m.host_path)) await fs.mkdir(m.host_path, { recursive: true }).catch(() => undefined);
  }
  const withImage: ContainerConfig = { ...cfg, image: { ...(cfg.image ?? { annotations: {}, user_specified_image: '', runtime_handler: '' }), image: imageRef } };
  await rt.rkt.run(containerAddArgs(sb.snap.uuid, app, withImage, `${CONTAINER_ANNOTATION}=${JSON.stringify(record)}`), { usageCode: GrpcStatus.INVALID_ARGUMENT });
  return record.id;
}

async function appStatus(c: CriContainer): Promise<AppStatus> {
  return readAppStatus(c.sandbox.snap.dir, c.sandbox.snap.state, c.sandbox.manifest, c.app);
}

export async function startContainer(rt: CriRuntime, id: string): Promise<void> {
  const c = await rt.containers.require(id);
  const s = await appStatus(c);
  if (s.state !== 'created') throw failedPrecondition(`container ${id} is ${s.state}: only a created container can be started`);
  await rt.rkt.run(['app', 'start', c.sandbox.snap.uuid, `--app=${c.app}`]);
  if (c.record.logPath !== '') await rt.logs.start(c, true);
}

/** Idempotent: stopping an exited or unknown container succeeds. */
export async function stopContainer(rt: CriRuntime, id: string, timeoutS: number): Promise<void> {
  const c = await rt.containers.find(id);
  if (c === undefined || c.sandbox.snap.state !== 'running') return;
  if ((await appStatus(c)).state !== 'running') return;
  await rt.rkt.run(['app', 'stop', c.sandbox.snap.uuid, `--app=${c.app}`, `--timeout=${Math.max(0, Math.floor(timeoutS))}`]);
}

export async function removeContainer(rt: CriRuntime, id: string): Promise<void> {
  const c = await rt.containers.find(id);
  if (c === undefined) return;
  rt.logs.stop(id);
  if (c.sandbox.snap.state !== 'running') return; // it goes with its sandbox (RemovePodSandbox)
  if ((await appStatus(c)).state === 'running') await stopContainer(rt, id, 0);
  await rt.rkt.run(['app', 'rm', c.sandbox.snap.uuid, `--app=${c.app}`]);
}

const STATES: Record<AppStatus['state'], ContainerStateName> = {
  created: 'CONTAINER_CREATED', running: 'CONTAINER_RUNNING', exited: 'CONTAINER_EXITED', unknown: 'CONTAINER_UNKNOWN',
};

export interface ContainerView { c: CriContainer; status: AppStatus; state: ContainerStateName }

/**
 * With `logs`, an exited container of a running sandbox whose last output is not yet in its log file still
 * reads RUNNING (a stopped sandbox's journal takes no more lines: its containers read EXITED at once).
 */
export async function viewContainer(c: CriContainer, logs?: ContainerLogs): Promise<ContainerView> {
  const status = await appStatus(c);
  if (logs !== undefined && c.sandbox.snap.state === 'running' && !logs.caughtUp(c, status)) return { c, status, state: 'CONTAINER_RUNNING' };
  return { c, status, state: STATES[status.state] };
}

export function containerStatusMessage(v: ContainerView): Record<string, unknown> {
  const { c, status } = v;
  const exited = v.state === 'CONTAINER_EXITED';
  return {
    id: c.record.id,
    metadata: c.record.metadata,
    state: v.state,
    created_at: c.record.createdAt,
    started_at: dateNs(status.startedAt),
    finished_at: exited ? dateNs(status.finishedAt) : '0',
    exit_code: exited ? (status.exitCode ?? 0) : 0,
    image: { image: c.record.image },
    image_ref: c.record.imageRef,
    image_id: c.record.imageRef,
    reason: exited ? (status.exitCode === 0 ? 'Completed' : 'Error') : '',
    message: '',
    labels: c.record.labels,
    annotations: c.record.annotations,
    mounts: c.record.mounts,
    log_path: c.record.logPath,
  };
}

export function containerListItem(v: ContainerView): Record<string, unknown> {
  const { c } = v;
  return {
    id: c.record.id, pod_sandbox_id: c.sandbox.snap.uuid, metadata: c.record.metadata, image: { image: c.record.image },
    image_ref: c.record.imageRef, image_id: c.record.imageRef, state: v.state, created_at: c.record.createdAt, labels: c.record.labels, annotations: c.record.annotations,
  };
}

export interface ContainerFilter { id: string; state: { state: ContainerStateName } | null; pod_sandbox_id: string; label_selector: StringMap }

/** The containers a filter's id, sandbox and labels select (ListContainers and the stats RPCs), in sandbox order. */
export async function selectContainers(rt: CriRuntime, f: Pick<ContainerFilter, 'id' | 'pod_sandbox_id' | 'label_selector'> | null): Promise<CriContainer[]> {
  const sandboxes = f !== null && f.pod_sandbox_id !== '' ? [await readSandbox(rt.dataDir, f.pod_sandbox_id)] : await listSandboxes(rt.dataDir);
  const out: CriContainer[] = [];
  for (const sb of sandboxes) {
    if (sb === undefined) continue;
    for (const c of containersOf(sb)) {
      rt.containers.remember(c);
      if (f !== null && f.id !== '' && c.record.id !== f.id) continue;
      if (f !== null && !matchesLabels(c.record.labels, f.label_selector)) continue;
      out.push(c);
    }
  }
  return out;
}

export async function listContainers(rt: CriRuntime, f: ContainerFilter | null): Promise<ContainerView[]> {
  const out: ContainerView[] = [];
  for (const c of await selectContainers(rt, f)) {
    const v = await viewContainer(c, rt.logs);
    if (f !== null && f.state !== null && v.state !== f.state.state) continue;
    out.push(v);
  }
  return out;
}

/** Stopping a timed-out command: SIGTERM, TimeoutStopSec (5 s) to SIGKILL, and a slow guest's round trip. */
const EXEC_DEADLINE_SLACK_S = 30;

export async function execSync(rt: CriRuntime, id: string, cmd: string[], timeoutS: number): Promise<{ stdout: Buffer; stderr: Buffer; exit_code: number }> {
  if (cmd.length === 0) throw invalidArgument('ExecSync needs a command');
  const c = await rt.containers.require(id);
  if ((await appStatus(c)).state !== 'running') throw failedPrecondition(`container ${id} is not running`);
  // The pod's systemd enforces the timeout (it stops the command and what it forked); the endpoint's own
  // deadline, later, only catches a stage1 that did not.
  const limit = timeoutS > 0 ? [`--timeout=${timeoutS}s`] : [];
  const started = Date.now();
  const r = await rt.rkt.capture(['enter', `--app=${c.app}`, ...limit, c.sandbox.snap.uuid, ...cmd], timeoutS > 0 ? (timeoutS + EXEC_DEADLINE_SLACK_S) * 1000 : undefined);
  if (r.timedOut || (timeoutS > 0 && Date.now() - started >= timeoutS * 1000)) {
    throw new CriError(GrpcStatus.DEADLINE_EXCEEDED, `command ${JSON.stringify(cmd)} timed out after ${timeoutS}s`);
  }
  return { stdout: r.stdoutBytes, stderr: r.stderrBytes, exit_code: r.code };
}
