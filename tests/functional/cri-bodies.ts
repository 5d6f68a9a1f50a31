// The CRI endpoint driven the way kubelet drives it, over its unix socket with the tests' own gRPC client:
// one body per behaviour, cri-endpoint.test.ts runs each for the nspawn and the kvm runtime handler.
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { criClient, type CriClient, type Msg } from '../harness/cri-client.js';
import { busyboxImage, writeLayout } from '../harness/oci-image.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { rktBin } from '../harness/aci.js';
import { spdyAttach, spdyExec } from '../harness/spdy-client.js';
import { freePort } from './net-helpers.js';
import type { NspawnHarness } from './nspawn-helpers.js';

export interface CriEnv {
  h: NspawnHarness;
  reg: TestRegistry;
  image: string;
  socket: string;
  server: ResultPromise | undefined;
  serverLog: string[];
  client: CriClient;
  /** More `rkt cri` flags (e.g. --cni-conf-dir). */
  criArgs?: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** `rkt cri` on a private socket, over the harness's dirs; resolves once the socket answers Version. */
export async function startCri(e: { h: { dirs: { globalArgs(): string[] } }; reg: Pick<TestRegistry, 'host'>; socket: string; serverLog: string[]; criArgs?: string[] }): Promise<{ server: ResultPromise; client: CriClient }> {
  const server = execa(process.execPath, [rktBin(), ...e.h.dirs.globalArgs(), '--debug', 'cri', `--listen=unix://${e.socket}`, `--insecure-registry=${e.reg.host}`, ...(e.criArgs ?? [])], { reject: false, all: true });
  server.all?.on('data', (b: Buffer) => e.serverLog.push(...b.toString().split('\n').filter((l) => l !== '')));
  const client = criClient(e.socket);
  for (let i = 0; ; i++) {
    try {
      await client.runtime['Version']!({ version: 'v1' }, 2_000);
      return { server, client };
    } catch (err) {
      if (server.exitCode !== null || i > 150) assert.fail(`rkt cri did not come up: ${e.serverLog.join('\n')} (${String(err)})`);
      await sleep(200);
    }
  }
}

export async function makeCriEnv(h: NspawnHarness, criArgs?: string[]): Promise<CriEnv> {
  const reg = await startRegistry();
  const layout = path.join(h.dirs.root, 'cri-layout');
  await writeLayout(layout, [{ image: await busyboxImage({}), name: '1.0' }]);
  await reg.pushOciLayout(layout, 'cri/busybox:1.0');
  const e: CriEnv = { h, reg, image: `${reg.host}/cri/busybox:1.0`, socket: path.join(h.dirs.root, 'cri.sock'), server: undefined, serverLog: [], client: undefined as unknown as CriClient, ...(criArgs ? { criArgs } : {}) };
  const s = await startCri(e);
  e.server = s.server;
  e.client = s.client;
  return e;
}

export async function stopCri(e: CriEnv, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  e.client.close();
  if (e.server === undefined) return;
  e.server?.kill(signal);
  const r = await e.server;
  e.server = undefined;
  if (signal === 'SIGTERM') {
    assert.equal(r.exitCode, 0, `rkt cri should exit 0 on SIGTERM: ${e.serverLog.join('\n')}`);
    assert.ok(!fs.existsSync(e.socket), 'the socket is removed on exit');
  }
}

export async function teardownCri(e: CriEnv): Promise<void> {
  await stopCri(e).catch(() => undefined);
  await e.reg.stop();
}

async function grpcCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (err) {
    return (err as { code: number }).code;
  }
}

const NOT_FOUND = 5;
const DEADLINE_EXCEEDED = 4;
const INVALID_ARGUMENT = 3;
const UNIMPLEMENTED = 12;
const FAILED_PRECONDITION = 9;

function sandboxConfig(name: string, logDir: string, hostPort?: number): Msg {
  return {
    port_mappings: hostPort === undefined ? [] : [{ protocol: 'TCP', container_port: 8080, host_port: hostPort, host_ip: '' }],
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    hostname: name,
    log_directory: logDir,
    dns_config: { servers: ['10.0.0.53'], searches: ['svc.cluster.local'], options: ['ndots:5'] },
    labels: { app: name },
    annotations: { 'example.com/note': 'kept' },
    linux: {},
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const CRI_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [PF] (.*)$/;

function logLines(file: string): string[] {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const m = CRI_LINE.exec(l);
    assert.ok(m, `not a CRI log line: ${JSON.stringify(l)}`);
    return m[2]!;
  });
}

/** WebSocket exec (v5.channel.k8s.io): stdout, and the exit status on the error channel. */
async function wsExec(url: string): Promise<{ stdout: string; status: Record<string, unknown> }> {
  const ws = new WebSocket(url, ['v5.channel.k8s.io']);
  let stdout = '';
  let status: Record<string, unknown> = {};
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d: Buffer) => {
      if (d.length === 0) return;
      if (d[0] === 1) stdout += d.subarray(1).toString();
      if (d[0] === 3) status = JSON.parse(d.subarray(1).toString()) as Record<string, unknown>;
    });
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
  return { stdout, status };
}

/** WebSocket attach (v5.channel.k8s.io): sends `input` on stdin, then v5's close signal ending stdin. */
async function wsAttach(url: string, input: string): Promise<{ stdout: string; stderr: string; status: Record<string, unknown> }> {
  const ws = new WebSocket(url, ['v5.channel.k8s.io']);
  let stdout = '';
  let stderr = '';
  let status: Record<string, unknown> = {};
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(input)]));
      ws.send(Buffer.from([255, 0]));
    });
    ws.on('message', (d: Buffer) => {
      if (d.length === 0) return;
      if (d[0] === 1) stdout += d.subarray(1).toString();
      if (d[0] === 2) stderr += d.subarray(1).toString();
      if (d[0] === 3) status = JSON.parse(d.subarray(1).toString()) as Record<string, unknown>;
    });
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
  return { stdout, stderr, status };
}

/** WebSocket port-forward (v4.channel.k8s.io): one request on port index 0, everything the pod answers. */
async function wsPortForward(url: string, request: string): Promise<string> {
  const ws = new WebSocket(url, ['v4.channel.k8s.io']);
  let data = Buffer.alloc(0);
  const prefixSeen = [false, false];
  let errors = '';
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(request)])));
    ws.on('message', (d: Buffer) => {
      const ch = d[0];
      if (ch !== 0 && ch !== 1) return;
      // the first frame of each channel carries its port (uint16 LE) before any bytes
      const body = prefixSeen[ch] ? d.subarray(1) : d.subarray(3);
      prefixSeen[ch] = true;
      if (ch === 0) data = Buffer.concat([data, body]);
      else errors += body.toString();
    });
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
  if (errors !== '') throw new Error(`port-forward error channel: ${errors}`);
  return data.toString();
}

/**
 * Kubelet's sequence: pull, sandbox, create, start, exec (sync and streamed), logs, the endpoint killed -9
 * and restarted in the middle (nothing lost, logs resume without duplicates), stop, remove, all gone.
 */
export async function kubeletSequenceBody(e: CriEnv, handler: string): Promise<void> {
  const rt = e.client.runtime;
  const img = e.client.image;
  const v = await rt['Version']!({ version: 'v1' });
  assert.equal(v['runtime_api_version'], 'v1');
  assert.equal(v['runtime_name'], 'rkt');
  const st = await rt['Status']!({});
  assert.deepEqual((st['status'] as { conditions: { type: string; status: boolean }[] }).conditions.map((c) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', true]]);

  const pulled = await img['PullImage']!({ image: { image: e.image } });
  const imageRef = String(pulled['image_ref']);
  assert.match(imageRef, /^sha512-/);
  const is = await img['ImageStatus']!({ image: { image: e.image } });
  assert.equal((is['image'] as Msg)['id'], imageRef);
  assert.deepEqual((is['image'] as Msg)['repo_tags'], [e.image]);
  assert.equal((await img['ImageStatus']!({ image: { image: `${e.reg.host}/cri/absent:1` } }))['image'], null, 'an absent image is an empty answer');
  assert.ok(((await img['ListImages']!({}))['images'] as Msg[]).some((i) => i['id'] === imageRef));

  const logDir = path.join(e.h.dirs.root, 'pod-logs', handler);
  const hostPort = await freePort();
  const cfg = sandboxConfig(`web-${handler}`, logDir, hostPort);
  const sbId = String((await rt['RunPodSandbox']!({ config: cfg, runtime_handler: handler }))['pod_sandbox_id']);
  const sbs = (await rt['PodSandboxStatus']!({ pod_sandbox_id: sbId }))['status'] as Msg;
  assert.equal(sbs['state'], 'SANDBOX_READY');
  assert.equal(sbs['runtime_handler'], handler);
  assert.match(String((sbs['network'] as Msg)['ip']), /^\d+\.\d+\.\d+\.\d+$/, 'the sandbox reports its IP');
  assert.deepEqual(sbs['labels'], { app: `web-${handler}` });
  assert.equal((sbs['annotations'] as Msg)['example.com/note'], 'kept');

  const script = 'echo started-$GREETING; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 1; done';
  // kubelet's volumes: a host directory that does not exist yet (read-write) and a file (read-only)
  const volDir = path.join(e.h.dirs.root, `cri-volume-${handler}`);
  const noteFile = path.join(e.h.dirs.root, `cri-note-${handler}`);
  fs.writeFileSync(noteFile, 'note-from-the-host\n');
  const mounts = [
    { container_path: '/data', host_path: volDir, readonly: false, propagation: 'PROPAGATION_PRIVATE' },
    { container_path: '/etc/note', host_path: noteFile, readonly: true, propagation: 'PROPAGATION_PRIVATE' },
  ];
  const cid = String((await rt['CreateContainer']!({
    pod_sandbox_id: sbId,
    config: { metadata: { name: 'ticker', attempt: 0 }, image: { image: imageRef }, command: ['/bin/sh', '-c'], args: [script], envs: [{ key: 'GREETING', value: Buffer.from('cri') }], log_path: 'ticker/0.log', labels: { role: 'tick' }, mounts },
    sandbox_config: cfg,
  }))['container_id']);
  assert.match(cid, /^[0-9a-f]{64}$/);
  const status = async (): Promise<Msg> => (await rt['ContainerStatus']!({ container_id: cid }))['status'] as Msg;
  assert.equal((await status())['state'], 'CONTAINER_CREATED');
  await rt['StartContainer']!({ container_id: cid });
  assert.equal((await status())['state'], 'CONTAINER_RUNNING');
  const logFile = path.join(logDir, 'ticker/0.log');
  await waitFor('the first log lines', async () => (logLines(logFile).includes('tick-2') ? true : undefined));
  assert.equal(logLines(logFile)[0], 'started-cri', fs.readFileSync(logFile, 'utf8'));

  const ex = await rt['ExecSync']!({ container_id: cid, cmd: ['/bin/sh', '-c', 'echo out-$GREETING; echo err >&2; exit 3'], timeout: 60 });
  assert.equal(Buffer.from(ex['stdout'] as Buffer).toString().trim(), 'out-cri');
  assert.equal(ex['exit_code'], 3);
  const vols = await rt['ExecSync']!({ container_id: cid, cmd: ['/bin/sh', '-c', 'cat /etc/note; echo from-the-container > /data/out; if echo x >> /etc/note 2>/dev/null; then echo note-writable; else echo note-read-only; fi'], timeout: 60 });
  assert.equal(Buffer.from(vols['stdout'] as Buffer).toString(), 'note-from-the-host\nnote-read-only\n');
  assert.equal(fs.readFileSync(path.join(volDir, 'out'), 'utf8'), 'from-the-container\n');
  assert.deepEqual(((await status())['mounts'] as Msg[]).map((m) => [m['container_path'], m['readonly']]), [['/data', false], ['/etc/note', true]]);
  // A timed-out ExecSync answers DEADLINE_EXCEEDED and leaves nothing running in the pod.
  const t0 = Date.now();
  assert.equal(await grpcCode(rt['ExecSync']!({ container_id: cid, cmd: ['/bin/busybox', 'sleep', '4321'], timeout: 1 })), DEADLINE_EXCEEDED);
  assert.ok(Date.now() - t0 < 40_000, `ExecSync returned ${Date.now() - t0} ms after a 1 s timeout`);
  const leftover = await rt['ExecSync']!({ container_id: cid, cmd: ['/bin/sh', '-c', '/bin/busybox ps -o args | /bin/busybox grep "[s]leep 4321"; true'], timeout: 60 });
  assert.equal(Buffer.from(leftover['stdout'] as Buffer).toString(), '', 'the timed-out command still runs in the pod');
  const url = String((await rt['Exec']!({ container_id: cid, cmd: ['/bin/sh', '-c', 'echo streamed-$GREETING; exit 4'], stdout: true, stderr: true }))['url']);
  const streamed = await wsExec(url);
  assert.equal(streamed.stdout.trim(), 'streamed-cri');
  assert.equal(streamed.status['reason'], 'NonZeroExitCode');
  // the same over SPDY, kubelet's transport
  const spdyUrl = String((await rt['Exec']!({ container_id: cid, cmd: ['/bin/sh', '-c', 'echo spdy-$GREETING; echo to-stderr >&2; exit 5'], stdout: true, stderr: true }))['url']);
  const overSpdy = await spdyExec(spdyUrl);
  assert.deepEqual([overSpdy.stdout, overSpdy.stderr, overSpdy.status['reason']], ['spdy-cri\n', 'to-stderr\n', 'NonZeroExitCode']);

  // A stdin container (kubectl run -i): Attach writes to its shell, and the end of that input is its EOF (stdin_once).
  const shell = String((await rt['CreateContainer']!({
    pod_sandbox_id: sbId, config: { metadata: { name: 'shell', attempt: 0 }, image: { image: imageRef }, command: ['/bin/sh'], stdin: true, stdin_once: true }, sandbox_config: cfg,
  }))['container_id']);
  await rt['StartContainer']!({ container_id: shell });
  assert.equal(await grpcCode(rt['Attach']!({ container_id: shell, stdin: true, stdout: true, tty: true })), INVALID_ARGUMENT);
  const attachUrl = String((await rt['Attach']!({ container_id: shell, stdin: true, stdout: true, stderr: true }))['url']);
  const attached = await wsAttach(attachUrl, 'echo attached-$((6*7))\n');
  assert.deepEqual([attached.stdout, attached.stderr, attached.status['status']], ['attached-42\n', '', 'Success'], JSON.stringify(attached));
  // over SPDY, as critest and kubectl attach do: input after a pause, stdin open until the answer came
  const shell2 = String((await rt['CreateContainer']!({
    pod_sandbox_id: sbId, config: { metadata: { name: 'shell2', attempt: 0 }, image: { image: imageRef }, command: ['/bin/sh'], stdin: true, stdin_once: true }, sandbox_config: cfg,
  }))['container_id']);
  await rt['StartContainer']!({ container_id: shell2 });
  const spdyUrl2 = String((await rt['Attach']!({ container_id: shell2, stdin: true, stdout: true, stderr: true }))['url']);
  const overSpdy2 = await spdyAttach(spdyUrl2, 'echo hello\n', 'hello\n', 2000);
  assert.deepEqual([overSpdy2.stdout, overSpdy2.stderr, overSpdy2.status['status']], ['hello\n', '', 'Success'], JSON.stringify(overSpdy2));
  await rt['RemoveContainer']!({ container_id: shell2 });
  const shellStatus = await waitFor('the attached shell to exit', async () => {
    const s = (await rt['ContainerStatus']!({ container_id: shell }))['status'] as Msg;
    return s['state'] === 'CONTAINER_EXITED' ? s : undefined;
  }, 60_000);
  assert.equal(shellStatus['exit_code'], 0);
  await rt['RemoveContainer']!({ container_id: shell });

  // A second container serving HTTP, reached through PortForward from the host.
  const web = String((await rt['CreateContainer']!({
    pod_sandbox_id: sbId, config: { metadata: { name: 'web', attempt: 0 }, image: { image: imageRef }, command: ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/tmp'] }, sandbox_config: cfg,
  }))['container_id']);
  await rt['StartContainer']!({ container_id: web });
  const fwd = await waitFor('an HTTP answer through PortForward', async () => {
    const u = String((await rt['PortForward']!({ pod_sandbox_id: sbId, port: [8080] }))['url']);
    const answer = await wsPortForward(u, 'GET /nothing-here HTTP/1.0\r\n\r\n').catch(() => '');
    return /^HTTP\/1\.[01] \d{3}/.test(answer) ? answer : undefined;
  }, 60_000);
  assert.match(fwd, /^HTTP\/1\.[01] 404/);
  // The sandbox's port mapping (rkt app sandbox --port) reaches the same server from the host's port.
  const mapped = await waitFor('an HTTP answer on the mapped host port', async () => {
    const res = await fetch(`http://127.0.0.1:${hostPort}/nothing-here`).catch(() => undefined);
    return res?.status;
  }, 60_000);
  assert.equal(mapped, 404);
  await rt['StopContainer']!({ container_id: web, timeout: 2 });
  await rt['RemoveContainer']!({ container_id: web });

  const listed = (await rt['ListContainers']!({ filter: { pod_sandbox_id: sbId, label_selector: { role: 'tick' } } }))['containers'] as Msg[];
  assert.deepEqual(listed.map((c) => c['id']), [cid]);

  // Stats from the app's cgroup in the pod (the guest for kvm): the ticker has used CPU and holds memory.
  const value = (m: unknown): number => Number(((m ?? {}) as Msg)['value'] ?? -1);
  const cs = (await rt['ContainerStats']!({ container_id: cid }))['stats'] as Msg;
  assert.equal((cs['attributes'] as Msg)['id'], cid);
  assert.notEqual(String((cs['cpu'] as Msg)['timestamp']), '0');
  assert.ok(value((cs['cpu'] as Msg)['usage_core_nano_seconds']) > 0, JSON.stringify(cs));
  assert.ok(value((cs['memory'] as Msg)['working_set_bytes']) > 0, JSON.stringify(cs));
  const byLabel = (await rt['ListContainerStats']!({ filter: { pod_sandbox_id: sbId, label_selector: { role: 'tick' } } }))['stats'] as Msg[];
  assert.deepEqual(byLabel.map((x) => (x['attributes'] as Msg)['id']), [cid]);
  assert.deepEqual((await rt['ListContainerStats']!({ filter: { label_selector: { role: 'nobody' } } }))['stats'], []);
  const ps = (await rt['PodSandboxStats']!({ pod_sandbox_id: sbId }))['stats'] as Msg;
  assert.equal((ps['attributes'] as Msg)['id'], sbId);
  assert.ok(value(((ps['linux'] as Msg)['cpu'] as Msg)['usage_core_nano_seconds']) >= value((cs['cpu'] as Msg)['usage_core_nano_seconds']));
  assert.ok((((ps['linux'] as Msg)['containers']) as Msg[]).some((x) => (x['attributes'] as Msg)['id'] === cid));
  assert.ok(((await rt['ListPodSandboxStats']!({}))['stats'] as Msg[]).some((x) => (x['attributes'] as Msg)['id'] === sbId));

  // New limits for the running container: the pod's systemd keeps them as drop-ins in the pod's tree
  await rt['UpdateContainerResources']!({ container_id: cid, linux: { memory_limit_in_bytes: String(96 * 1024 * 1024), cpu_quota: '50000', cpu_period: '100000' } });
  const control = path.join(e.h.podDir('run', sbId), 'stage1/rootfs/etc/systemd/system.control');
  const dropIns = (): string[] => (fs.existsSync(control) ? fs.readdirSync(control, { recursive: true }).map(String).filter((f) => f.includes('ticker') && f.endsWith('.conf')) : []);
  const memoryDropIn = dropIns().find((f) => f.endsWith('50-MemoryMax.conf'));
  assert.ok(memoryDropIn, `no MemoryMax drop-in: ${dropIns().join(', ')}`);
  assert.match(fs.readFileSync(path.join(control, memoryDropIn), 'utf8'), /MemoryMax=100663296/);
  assert.match(fs.readFileSync(path.join(control, memoryDropIn.replace('MemoryMax', 'CPUQuota')), 'utf8'), /CPUQuota=50(\.00)?%/);
  assert.equal(((await status())['state']), 'CONTAINER_RUNNING');

  // The endpoint dies; pods keep running; a new endpoint sees them and resumes the log without duplicates.
  await stopCri(e, 'SIGKILL');
  await sleep(2_000);
  const again = await startCri(e);
  e.server = again.server;
  e.client = again.client;
  const rt2 = e.client.runtime;
  assert.equal(((await rt2['PodSandboxStatus']!({ pod_sandbox_id: sbId }))['status'] as Msg)['state'], 'SANDBOX_READY');
  assert.equal(((await rt2['ContainerStatus']!({ container_id: cid }))['status'] as Msg)['state'], 'CONTAINER_RUNNING');
  const seen = logLines(logFile).length;
  await waitFor('log lines after the restart', async () => (logLines(logFile).length > seen + 2 ? true : undefined));
  const ticks = logLines(logFile).filter((l) => l.startsWith('tick-'));
  assert.equal(new Set(ticks).size, ticks.length, `no line twice after the restart: ${ticks.join(' ')}`);

  await rt2['StopContainer']!({ container_id: cid, timeout: 5 });
  const stopped = (await rt2['ContainerStatus']!({ container_id: cid }))['status'] as Msg;
  assert.equal(stopped['state'], 'CONTAINER_EXITED');
  assert.notEqual(stopped['finished_at'], '0');
  await rt2['StopContainer']!({ container_id: cid, timeout: 5 }); // idempotent
  await rt2['RemoveContainer']!({ container_id: cid });
  assert.deepEqual(dropIns(), [], 'a removed container leaves no limits for a namesake');
  assert.equal(await grpcCode(rt2['ContainerStatus']!({ container_id: cid })), NOT_FOUND);
  await rt2['StopPodSandbox']!({ pod_sandbox_id: sbId });
  assert.equal(((await rt2['PodSandboxStatus']!({ pod_sandbox_id: sbId }))['status'] as Msg)['state'], 'SANDBOX_NOTREADY');
  await rt2['StopPodSandbox']!({ pod_sandbox_id: sbId });
  await rt2['RemovePodSandbox']!({ pod_sandbox_id: sbId });
  await rt2['RemovePodSandbox']!({ pod_sandbox_id: sbId });
  assert.equal(await grpcCode(rt2['PodSandboxStatus']!({ pod_sandbox_id: sbId })), NOT_FOUND);
  assert.deepEqual((await rt2['ListPodSandbox']!({}))['items'], []);
  const list = await e.h.rkt(['list', '--no-legend']);
  assert.equal(list.stdout.trim(), '', 'no pod is left');
  await e.client.image['RemoveImage']!({ image: { image: imageRef } });
  assert.equal((await e.client.image['ImageStatus']!({ image: { image: e.image } }))['image'], null);
  await stopCri(e);
}

/** Bad requests get the status kubelet acts on, and change nothing. */
export async function badRequestsBody(e: CriEnv): Promise<void> {
  const rt = e.client.runtime;
  const ghost = '00000000-0000-0000-0000-000000000000';
  assert.equal(await grpcCode(rt['PodSandboxStatus']!({ pod_sandbox_id: ghost })), NOT_FOUND);
  assert.equal(await grpcCode(rt['ContainerStatus']!({ container_id: 'f'.repeat(64) })), NOT_FOUND);
  assert.equal(await grpcCode(rt['StartContainer']!({ container_id: 'f'.repeat(64) })), NOT_FOUND);
  assert.equal(await grpcCode(rt['ExecSync']!({ container_id: 'nope', cmd: ['true'] })), NOT_FOUND);
  assert.equal(await grpcCode(rt['ContainerStats']!({ container_id: 'f'.repeat(64) })), NOT_FOUND);
  assert.equal(await grpcCode(rt['PodSandboxStats']!({ pod_sandbox_id: ghost })), NOT_FOUND);
  assert.deepEqual((await rt['ListContainerStats']!({}))['stats'], []);
  assert.equal(await grpcCode(rt['CreateContainer']!({ pod_sandbox_id: ghost, config: { metadata: { name: 'x' }, image: { image: e.image } } })), NOT_FOUND);
  assert.equal(await grpcCode(rt['StopPodSandbox']!({ pod_sandbox_id: ghost })), 0, 'stopping an unknown sandbox succeeds');
  assert.equal(await grpcCode(rt['RemovePodSandbox']!({ pod_sandbox_id: ghost })), 0);
  assert.equal(await grpcCode(rt['RemoveContainer']!({ container_id: 'f'.repeat(64) })), 0);
  assert.equal(await grpcCode(rt['RunPodSandbox']!({ config: sandboxConfig('bad', ''), runtime_handler: 'gvisor' })), INVALID_ARGUMENT);
  assert.equal(await grpcCode(rt['RunPodSandbox']!({ config: { metadata: { name: 'x' } } })), INVALID_ARGUMENT, 'metadata without uid/namespace');
  assert.equal(await grpcCode(rt['RunPodSandbox']!({})), INVALID_ARGUMENT);
  assert.equal(await grpcCode(rt['UpdateContainerResources']!({ container_id: 'x' })), NOT_FOUND);
  assert.equal(await grpcCode(rt['CheckpointContainer']!({ container_id: 'x' })), UNIMPLEMENTED);
  assert.equal(await grpcCode(e.client.image['PullImage']!({ image: { image: 'UPPER/Case' } })), INVALID_ARGUMENT);
  assert.notEqual(await grpcCode(e.client.image['PullImage']!({ image: { image: `${e.reg.host}/cri/absent:1` } })), 0);
  assert.equal(await grpcCode(e.client.image['RemoveImage']!({ image: { image: `${e.reg.host}/cri/absent:1` } })), 0, 'removing an absent image succeeds');
  assert.deepEqual((await rt['ListPodSandbox']!({}))['items'], []);
  assert.equal((await e.h.rkt(['list', '--no-legend'])).stdout.trim(), '');
}

/** One image under two tags: one image with both repo tags, found by either; removing it by one removes it under both (critest's rule). */
export async function imageTagsBody(e: CriEnv): Promise<void> {
  const img = e.client.image;
  const second = `${e.reg.host}/cri/busybox:stable`;
  await e.reg.pushOciLayout(path.join(e.h.dirs.root, 'cri-layout'), 'cri/busybox:stable', { layoutTag: '1.0' });
  const id1 = String((await img['PullImage']!({ image: { image: e.image } }))['image_ref']);
  const id2 = String((await img['PullImage']!({ image: { image: second } }))['image_ref']);
  assert.equal(id2, id1, 'the same manifest is one image');
  const listed = ((await img['ListImages']!({}))['images'] as Msg[]).filter((i) => i['id'] === id1);
  assert.equal(listed.length, 1);
  assert.deepEqual([...(listed[0]!['repo_tags'] as string[])].sort(), [e.image, second].sort());
  const byFirst = (await img['ImageStatus']!({ image: { image: e.image } }))['image'];
  assert.deepEqual((await img['ImageStatus']!({ image: { image: second } }))['image'], byFirst);
  // rkt itself finds it by the older tag too, without asking the registry
  const cached = await e.h.rkt(['--insecure-options=image', 'fetch', '--full', '--pull-policy=never', `docker://${e.image}`]);
  assert.equal(cached.exitCode, 0, cached.stderr);
  assert.equal(cached.stdout.trim().split('\n').at(-1), id1);
  await img['RemoveImage']!({ image: { image: second } });
  assert.equal((await img['ImageStatus']!({ image: { image: e.image } }))['image'], null);
  assert.equal((await img['ImageStatus']!({ image: { image: second } }))['image'], null);
}

/**
 * kubelet's pod network: `--cni-conf-dir` with no config yet is NetworkReady=false and RunPodSandbox refused;
 * once a conflist is there (read at each call), sandboxes join that network, its address reported, torn down on stop.
 */
export async function cniConfDirBody(e: CriEnv): Promise<void> {
  const rt = e.client.runtime;
  const cniDir = path.join(e.h.dirs.root, 'cni-net.d');
  const conditions = async (): Promise<Msg[]> => ((await rt['Status']!({}))['status'] as { conditions: Msg[] }).conditions;
  const netReady = (await conditions()).find((c) => c['type'] === 'NetworkReady')!;
  assert.equal(netReady['status'], false);
  assert.equal(netReady['reason'], 'NetworkPluginNotReady');
  assert.match(String(netReady['message']), /cni-net\.d/);
  assert.equal(await grpcCode(rt['RunPodSandbox']!({ config: sandboxConfig('early', ''), runtime_handler: 'nspawn' })), FAILED_PRECONDITION);

  const octet = 100 + Math.floor(Math.random() * 100);
  fs.mkdirSync(cniDir, { recursive: true });
  fs.writeFileSync(path.join(cniDir, '10-node.conflist'), JSON.stringify({
    cniVersion: '1.0.0', name: 'node-net',
    plugins: [{ type: 'bridge', bridge: `rktcni${octet}`, isGateway: true, ipMasq: false,
      ipam: { type: 'host-local', subnet: `198.19.${octet}.0/24`, dataDir: path.join(e.h.dirs.root, 'cni-ipam') } }],
  }));
  fs.writeFileSync(path.join(cniDir, '20-later.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'not-first', type: 'bridge', bridge: `rktcnx${octet}`,
    ipam: { type: 'host-local', subnet: `198.19.${octet + 1}.0/24`, dataDir: path.join(e.h.dirs.root, 'cni-ipam') } }));
  assert.equal((await conditions()).find((c) => c['type'] === 'NetworkReady')!['status'], true);
  const sbId = String((await rt['RunPodSandbox']!({ config: sandboxConfig('on-node-net', ''), runtime_handler: 'nspawn' }))['pod_sandbox_id']);
  const st = (await rt['PodSandboxStatus']!({ pod_sandbox_id: sbId }))['status'] as Msg;
  assert.match(String((st['network'] as Msg)['ip']), new RegExp(`^198\\.19\\.${octet}\\.\\d+$`));
  await rt['StopPodSandbox']!({ pod_sandbox_id: sbId });
  await rt['RemovePodSandbox']!({ pod_sandbox_id: sbId });
  const leases = fs.readdirSync(path.join(e.h.dirs.root, 'cni-ipam', 'node-net')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  assert.deepEqual(leases, [], 'the stopped sandbox gave its address back');
  await execa('ip', ['link', 'del', `rktcni${octet}`], { reject: false });
}
