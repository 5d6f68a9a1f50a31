// One exec or attach over a channel WebSocket: stdin on channel 0, stdout 1, stderr 2, the
// closing status 3, terminal resizes 4, and (v5) the close signal on 255 ending stdin. The
// session ends when the process has exited and its output is flushed (status, then close 1000),
// or when the client goes away (the process is killed).
import { CLOSE_SIGNAL_CHANNEL, errorText, pipeToChannel, type Channels } from './channels.js';
import { ResizeDecoder } from './resize.js';
import { encodeStatus, internalErrorStatus, nonZeroExitStatus, successStatus, type Status } from './status.js';
import type { AttachTarget, ExecTarget, LogFn, StreamingBackend, StreamProcess } from './types.js';

export const STDIN_CHANNEL = 0;
export const STDOUT_CHANNEL = 1;
export const STDERR_CHANNEL = 2;
export const ERROR_CHANNEL = 3;
export const RESIZE_CHANNEL = 4;

/** After the process exits, how long its stdout/stderr may stay open (a daemonized child holding the pipe) before the session ends anyway. */
export const OUTPUT_GRACE_MS = 2000;

export type RemoteCommand = { kind: 'exec'; target: ExecTarget } | { kind: 'attach'; target: AttachTarget };

export interface Session {
  /** Ends the session now: closes the socket with `code` and kills the process if it still runs. */
  abort(code: number, reason: string): void;
  /** Settles once the socket has closed. */
  readonly closed: Promise<void>;
}

function describe(cmd: RemoteCommand): string {
  const t = cmd.target;
  return `${cmd.kind} ${cmd.kind === 'exec' ? 'in' : 'to'} ${t.podUuid}/${t.app}`;
}

function exitWhat(cmd: RemoteCommand, exitCode: number): string {
  if (cmd.kind === 'exec') return `error executing command [${cmd.target.cmd.join(' ')}], exit code ${exitCode}`;
  return `container ${cmd.target.app} exited with code ${exitCode}`;
}

function isQuietStdinError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

export function startRemoteCommand(conn: Channels, cmd: RemoteCommand, backend: StreamingBackend, log: LogFn): Session {
  const label = describe(cmd);
  const t = cmd.target;
  let clientGone = false;
  let exited = false;
  let proc: StreamProcess | null = null;

  const { closed } = conn;

  const killProcess = (): void => {
    if (proc === null || exited) return;
    try {
      proc.kill();
    } catch (err) {
      log(`streaming: ${label}: kill: ${errorText(err)}`);
    }
  };

  void closed.then(() => {
    clientGone = true;
    killProcess();
    try {
      proc?.stdin?.end();
    } catch {
      // the process is going away; nothing reads its stdin
    }
  });

  const finish = (status: Status): void => {
    if (clientGone) return;
    const payload = encodeStatus(status, conn.statusVersion);
    if (payload !== null) conn.send(ERROR_CHANNEL, payload);
    conn.close(1000);
  };

  // Like kubelet: an empty frame on the lowest channel the client reads tells it the stream is up.
  conn.send(t.stdout ? STDOUT_CHANNEL : t.stderr ? STDERR_CHANNEL : ERROR_CHANNEL, Buffer.alloc(0));

  try {
    proc = cmd.kind === 'exec' ? backend.spawnExec(cmd.target) : backend.spawnAttach(cmd.target);
  } catch (err) {
    log(`streaming: ${label}: ${errorText(err)}`);
    finish(internalErrorStatus(`error ${cmd.kind === 'exec' ? 'executing command in' : 'attaching to'} container: ${errorText(err)}`));
    return { abort: (code, reason) => conn.close(code, reason), closed };
  }
  const p = proc;

  // stdin
  const stdin = t.stdin ? p.stdin : null;
  let stdinOpen = stdin !== null;
  if (p.stdin !== null) {
    p.stdin.on('error', (err: unknown) => {
      stdinOpen = false;
      if (!isQuietStdinError(err)) log(`streaming: ${label}: stdin: ${errorText(err)}`);
    });
    if (stdin === null) p.stdin.end();
  }
  // A full stdin pipe pauses reading from the client until it drains (or goes away).
  let stdinBlocked = false;
  const unblockStdin = (): void => {
    if (!stdinBlocked) return;
    stdinBlocked = false;
    conn.resume();
  };
  if (stdin !== null) {
    stdin.on('drain', unblockStdin);
    stdin.on('close', unblockStdin);
    stdin.on('error', unblockStdin);
  }
  const endStdin = (): void => {
    if (stdin === null || !stdinOpen) return;
    stdinOpen = false;
    stdin.end();
  };

  const resize = new ResizeDecoder();
  conn.onFrame((channel, payload) => {
    if (channel === STDIN_CHANNEL) {
      if (stdin === null || !stdinOpen || payload.length === 0) return;
      if (!stdin.write(payload) && !stdinBlocked) {
        stdinBlocked = true;
        conn.pause();
      }
    } else if (channel === RESIZE_CHANNEL) {
      let sizes;
      try {
        sizes = resize.push(payload);
      } catch (err) {
        log(`streaming: ${label}: ${errorText(err)}`);
        return;
      }
      for (const s of sizes) {
        try {
          p.resize(s.width, s.height);
        } catch (err) {
          log(`streaming: ${label}: resize: ${errorText(err)}`);
        }
      }
    } else if (channel === CLOSE_SIGNAL_CHANNEL && conn.closeSignal) {
      if (payload[0] === STDIN_CHANNEL) endStdin();
    }
    // anything else (stdout/stderr/error from the client, unknown channels) is ignored, as kubelet does
  });

  // stdout / stderr
  const pipeOut = (stream: NodeJS.ReadableStream | null, wanted: boolean, channel: number): Promise<void> => {
    if (stream === null) return Promise.resolve();
    if (!wanted) {
      stream.on('error', () => {});
      stream.resume();
      return Promise.resolve();
    }
    return pipeToChannel(conn, stream, channel, log);
  };
  const outputs = Promise.all([pipeOut(p.stdout, t.stdout, STDOUT_CHANNEL), pipeOut(p.stderr, t.stderr, STDERR_CHANNEL)]);

  const afterExit = async (status: Status): Promise<void> => {
    exited = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, OUTPUT_GRACE_MS);
      timer.unref();
    });
    await Promise.race([outputs, grace, closed]);
    clearTimeout(timer);
    endStdin();
    finish(status);
  };

  p.exited.then(
    ({ exitCode }) => afterExit(exitCode === 0 ? successStatus() : nonZeroExitStatus(exitCode, exitWhat(cmd, exitCode))),
    (err: unknown) => {
      log(`streaming: ${label}: ${errorText(err)}`);
      return afterExit(internalErrorStatus(`error ${cmd.kind === 'exec' ? 'executing command in' : 'attaching to'} container: ${errorText(err)}`));
    },
  ).catch((err: unknown) => {
    log(`streaming: ${label}: ${errorText(err)}`);
    conn.close(1011, 'internal error');
  });

  return {
    abort: (code, reason) => {
      killProcess();
      conn.close(code, reason);
    },
    closed,
  };
}
