// RunPodSandbox and friends: a sandbox is a `rkt app sandbox` pod, started detached so it outlives the endpoint.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { isSupervisorReady, readNetInfo, readPodPid } from '../../pod/info.js';
import { probePod } from '../../pod/state.js';
import { CriError, failedPrecondition, invalidArgument } from '../errors.js';
import type { PodSandboxConfig, PodSandboxStateName, StringMap } from '../messages.js';
import { nowNs, SANDBOX_ANNOTATION, type SandboxRecord } from '../records.js';
import { criScratch, sandboxConsoleLog, type CriRuntime } from './context.js';
import { containersOf, listSandboxes, readSandbox, type CriSandbox } from './cri-pods.js';

/** kvm under TCG on a loaded machine boots in tens of seconds; past this the sandbox is given up. */
const SANDBOX_READY_TIMEOUT_MS = 300_000;
const POLL_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** rkt `app sandbox` flags for a CRI sandbox config: everything kubelet can ask that rkt can do. */
export function sandboxArgs(cfg: PodSandboxConfig, stage1: string, podNetwork: string, record: SandboxRecord): string[] {
  const args = ['app', 'sandbox', `--stage1-image=${stage1}`];
  const ns = cfg.linux?.security_context?.namespace_options;
  if (cfg.linux?.security_context?.privileged) throw invalidArgument('privileged pod sandboxes are not supported: rkt pods always run in their own namespaces');
  if (ns && (ns.pid === 'NODE' || ns.ipc === 'NODE')) throw invalidArgument('host PID and IPC namespaces are not supported for rkt sandboxes (hostPID/hostIPC)');
  args.push(`--net=${record.networkMode === 'NODE' ? 'host' : podNetwork}`);
  if (cfg.hostname !== '') args.push(`--hostname=${cfg.hostname}`);
  for (const s of cfg.dns_config?.servers ?? []) args.push(`--dns=${s}`);
  for (const s of cfg.dns_config?.searches ?? []) args.push(`--dns-search=${s}`);
  for (const s of cfg.dns_config?.options ?? []) args.push(`--dns-opt=${s}`);
  for (const [i, p] of cfg.port_mappings.entries()) {
    if (p.host_port <= 0) continue; // a port kubelet only documents; nothing to forward
    if (p.protocol === 'SCTP') throw invalidArgument(`port mapping ${p.container_port}/SCTP: only TCP and UDP are forwarded`);
    if (record.networkMode === 'NODE') continue; // the pod already uses the node's ports
    const hostIP = p.host_ip === '' ? '0.0.0.0' : p.host_ip;
    args.push(`--port=cri-${i}:${p.protocol.toLowerCase()}:${p.container_port}:${hostIP}:${p.host_port}`);
  }
  args.push(`--annotation=${SANDBOX_ANNOTATION}=${JSON.stringify(record)}`);
  return args;
}

function sandboxRecord(cfg: PodSandboxConfig, handler: string): SandboxRecord {
  const m = cfg.metadata;
  if (m === null || m.name === '' || m.uid === '' || m.namespace === '') {
    throw invalidArgument('PodSandboxConfig.metadata needs name, uid and namespace');
  }
  return {
    metadata: { name: m.name, uid: m.uid, namespace: m.namespace, attempt: m.attempt },
    labels: { ...cfg.labels },
    annotations: { ...cfg.annotations },
    logDirectory: cfg.log_directory,
    runtimeHandler: handler,
    networkMode: cfg.linux?.security_context?.namespace_options?.network ?? 'POD',
    createdAt: nowNs(),
  };
}

async function readUuid(file: string): Promise<string | undefined> {
  try {
    const t = (await fs.readFile(file, 'utf8')).trim();
    return t === '' ? undefined : t;
  } catch {
    return undefined;
  }
}

async function consoleTail(file: string): Promise<string> {
  const t = await fs.readFile(file, 'utf8').catch(() => '');
  const lines = t.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.slice(-3).join(' | ') || 'no output';
}

export async function runPodSandbox(rt: CriRuntime, cfg: PodSandboxConfig | null, handler: string): Promise<string> {
  if (cfg === null) throw invalidArgument('RunPodSandbox needs a config');
  const stage1 = rt.handlers.get(handler);
  if (stage1 === undefined) throw invalidArgument(`unknown runtime handler "${handler}": this runtime has ${[...rt.handlers.keys()].filter((h) => h !== '').join(', ')}`);
  const record = sandboxRecord(cfg, handler === '' ? stage1 : handler);
  let network = 'host';
  if (record.networkMode !== 'NODE') {
    const net = await rt.podNetwork.current();
    if ('notReady' in net) throw failedPrecondition(`the pod network is not ready: ${net.notReady}`);
    network = net.name;
  }
  const args = sandboxArgs(cfg, stage1, network, record);
  const token = randomBytes(8).toString('hex');
  await fs.mkdir(`${criScratch(rt.dataDir)}/sandboxes`, { recursive: true, mode: 0o700 });
  const uuidFile = `${criScratch(rt.dataDir)}/sandboxes/${token}.uuid`;
  const consoleFile = sandboxConsoleLog(rt.dataDir, token);
  const child = rt.rkt.spawnDetached([...args.slice(0, 2), `--uuid-file-save=${uuidFile}`, ...args.slice(2)], consoleFile);
  let exited: number | null | undefined;
  child.on('exit', (code) => { exited = code; });
  const deadline = Date.now() + SANDBOX_READY_TIMEOUT_MS;
  let uuid: string | undefined;
  try {
    for (;;) {
      uuid ??= await readUuid(uuidFile);
      if (uuid !== undefined) {
        const snap = await probePod(rt.dataDir, uuid);
        if (snap?.state === 'running' && (await readPodPid(snap.dir)) !== undefined && (await isSupervisorReady(snap.dir))) {
          if (record.networkMode === 'NODE' || (await readNetInfo(snap.dir)).some((n) => n.ip !== undefined)) break;
        }
      }
      if (exited !== undefined) {
        throw new CriError(GrpcStatus.UNKNOWN, `the sandbox exited with status ${exited ?? 'signal'} before it was ready: ${await consoleTail(consoleFile)}`);
      }
      if (Date.now() > deadline) {
        throw new CriError(GrpcStatus.DEADLINE_EXCEEDED, `the sandbox was not ready after ${SANDBOX_READY_TIMEOUT_MS / 1000}s: ${await consoleTail(consoleFile)}`);
      }
      await sleep(POLL_MS);
    }
  } catch (err) {
    if (uuid !== undefined) await removePod(rt, uuid).catch((e: unknown) => rt.debug(`cleanup of sandbox ${uuid} failed: ${String(e)}`));
    else if (exited === undefined) child.kill('SIGKILL');
    await fs.rm(uuidFile, { force: true });
    throw err;
  }
  await fs.rm(uuidFile, { force: true });
  await fs.rename(consoleFile, sandboxConsoleLog(rt.dataDir, uuid)).catch(() => undefined);
  rt.debug(`sandbox ${record.metadata.namespace}/${record.metadata.name} is pod ${uuid} (${record.runtimeHandler})`);
  return uuid;
}

async function waitNotRunning(rt: CriRuntime, uuid: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await probePod(rt.dataDir, uuid);
    if (s === undefined || s.state !== 'running') return true;
    if (Date.now() > deadline) return false;
    await sleep(POLL_MS);
  }
}

async function stopPod(rt: CriRuntime, uuid: string): Promise<void> {
  const snap = await probePod(rt.dataDir, uuid);
  if (snap?.state !== 'running') return;
  const r = await rt.rkt.capture(['stop', uuid], 60_000);
  if (r.code === 0 && (await waitNotRunning(rt, uuid, 30_000))) return;
  await rt.rkt.capture(['stop', '--force', uuid], 60_000);
  if (!(await waitNotRunning(rt, uuid, 30_000))) throw new CriError(GrpcStatus.UNKNOWN, `pod ${uuid} is still running after rkt stop --force`);
}

async function removePod(rt: CriRuntime, uuid: string): Promise<void> {
  await stopPod(rt, uuid);
  if ((await probePod(rt.dataDir, uuid)) !== undefined) await rt.rkt.run(['rm', uuid]);
  await fs.rm(sandboxConsoleLog(rt.dataDir, uuid), { force: true });
}

/** Idempotent, as CRI asks: stopping a stopped or unknown sandbox succeeds. */
export async function stopPodSandbox(rt: CriRuntime, id: string): Promise<void> {
  const sb = await readSandbox(rt.dataDir, id);
  if (sb === undefined) return;
  for (const c of containersOf(sb)) rt.logs.stop(c.record.id);
  await stopPod(rt, id);
}

export async function removePodSandbox(rt: CriRuntime, id: string): Promise<void> {
  const sb = await readSandbox(rt.dataDir, id);
  if (sb === undefined) return;
  for (const c of containersOf(sb)) rt.logs.stop(c.record.id);
  await removePod(rt, id);
}

export const sandboxState = (sb: CriSandbox): PodSandboxStateName => (sb.snap.state === 'running' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY');

/** CRI's label_selector: every key given must have that value. */
export function matchesLabels(labels: StringMap, selector: StringMap): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export interface SandboxFilter { id: string; state: { state: PodSandboxStateName } | null; label_selector: StringMap }

export async function listPodSandboxes(rt: CriRuntime, f: SandboxFilter | null): Promise<CriSandbox[]> {
  const all = f !== null && f.id !== '' ? [await readSandbox(rt.dataDir, f.id)].filter((s): s is CriSandbox => s !== undefined) : await listSandboxes(rt.dataDir);
  return all.filter((sb) => (f === null || ((f.state === null || sandboxState(sb) === f.state.state) && matchesLabels(sb.record.labels, f.label_selector))));
}

export async function sandboxIp(sb: CriSandbox): Promise<string[]> {
  if (sb.snap.state !== 'running') return [];
  return (await readNetInfo(sb.snap.dir)).map((n) => n.ip?.split('/')[0]).filter((ip): ip is string => ip !== undefined && ip !== '');
}

