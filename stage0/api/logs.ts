// GetLogs: a pod's journal, or one app's, read with the host's journalctl from the pod's journal directory
// (stage0/pod/journal.ts, as `rkt logs` reads it), its lines sent as they arrive, a batch per read.
import { spawn } from 'node:child_process';
import { status as GrpcStatus, type ServerWritableStream } from '@grpc/grpc-js';
import { readPodManifestFile } from '../pod/info.js';
import { journalctlArgs, podJournalDir, type JournalQuery } from '../pod/journal.js';
import { ensureOverlaysMounted } from '../pod/overlays.js';
import { requirePod } from '../pod/state.js';
import { resolvePodUuid } from '../pod/uuid.js';
import { failedPrecondition, GrpcStatusError, notFound } from '../grpc/status-error.js';
import type { LogsRequest } from './requests.js';

export interface LogsSource {
  /** journalctl's argv (without argv[0]) for the request. */
  args: string[];
  uuid: string;
}

/** Checks the request against the pod (NOT_FOUND for an unknown pod or app) and finds its journal. */
export async function logsSource(dataDir: string, r: LogsRequest): Promise<LogsSource> {
  const uuid = await resolvePodUuid(dataDir, r.podId);
  const snap = await requirePod(dataDir, uuid);
  if (r.app !== undefined) {
    const apps = (await readPodManifestFile(snap.dir).catch(() => undefined))?.apps.map((a) => a.name) ?? [];
    if (!apps.includes(r.app)) throw notFound(`GetLogs: pod ${uuid} has no app "${r.app}" (apps: ${apps.join(', ') || 'none'})`);
  }
  // the journal lives in the stage1's tree, an overlay that a reboot unmounted; unprivileged, this fails
  await ensureOverlaysMounted(snap.dir).catch(() => undefined);
  const dir = podJournalDir(snap.dir, uuid);
  if (dir === undefined) throw failedPrecondition(`GetLogs: pod ${uuid} has no journal (yet): its stage1 writes one once the pod has booted`);
  const q: JournalQuery = { follow: r.follow, quiet: true };
  if (r.app !== undefined) q.app = r.app;
  if (r.lines !== undefined) q.lines = r.lines;
  if (r.since !== undefined) q.since = r.since;
  if (r.until !== undefined) q.until = r.until;
  return { args: journalctlArgs(dir, q), uuid };
}

type LogsCall = ServerWritableStream<unknown, { lines: string[] }>;

/**
 * Runs journalctl for the stream until it ends, the client goes, `until` passes while following, or stop()
 * (the service shutting down). Flow control: journalctl's output is paused while the client is behind.
 */
export function pipeJournal(call: LogsCall, src: LogsSource, o: { untilMs?: number; debug: (l: string) => void }): { stop(): void; done: Promise<void> } {
  const child = spawn('journalctl', src.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let ended = false;
  let partial = '';
  let stderr = '';
  const finish = (err?: GrpcStatusError): void => {
    if (ended) return;
    ended = true;
    if (timer !== undefined) clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    if (err) call.emit('error', { code: err.grpcCode, details: err.message });
    else {
      if (partial !== '') call.write({ lines: [partial] });
      call.end();
    }
  };
  const timer = o.untilMs === undefined ? undefined : setTimeout(() => finish(), Math.max(0, o.untilMs - Date.now()));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    if (ended) return;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    const batch = lines.filter((l) => l !== '');
    if (batch.length > 0 && !call.write({ lines: batch })) {
      child.stdout.pause();
      call.once('drain', () => child.stdout.resume());
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => { stderr = (stderr + d).slice(-2000); });
  call.on('cancelled', () => { ended = true; if (timer !== undefined) clearTimeout(timer); child.kill('SIGTERM'); });
  const done = new Promise<void>((resolve) => {
    child.on('error', (e) => {
      finish(new GrpcStatusError(GrpcStatus.FAILED_PRECONDITION, `GetLogs: cannot run journalctl: ${e.message} (install systemd's journalctl)`));
      resolve();
    });
    child.on('close', (code, signal) => {
      o.debug(`GetLogs ${src.uuid}: journalctl ended (${signal ?? `exit ${code}`})`);
      if (code !== 0 && signal === null) {
        const why = stderr.trim().split('\n').pop() ?? '';
        finish(new GrpcStatusError(GrpcStatus.INTERNAL, `GetLogs: journalctl exited with status ${code}${why ? `: ${why}` : ''}`));
      } else finish();
      resolve();
    });
  });
  return { stop: () => finish(), done };
}
