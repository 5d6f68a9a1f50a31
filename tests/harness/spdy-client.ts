// A SPDY client for the CRI streaming URLs, the way client-go's SPDY executor speaks to kubelet: an
// HTTP upgrade offering stream protocols, then one stream per channel. Built on the endpoint's own
// SPDY session code (the session's client role exists for this); crictl and critest check the same
// URLs with Go's implementation in development sessions.
import { dialSpdy } from '../../stage0/cri/streaming/spdy/client.js';
import type { SpdyStream } from '../../stage0/cri/streaming/spdy/session.js';

function readAll(s: SpdyStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.once('end', () => resolve(text));
  });
}

/** Runs an Exec URL (stdout and stderr, no stdin) over SPDY v4: its output and the status document. */
export async function spdyExec(url: string): Promise<{ stdout: string; stderr: string; status: Record<string, unknown> }> {
  const { session } = await dialSpdy(url, ['v4.channel.k8s.io']);
  try {
    const error = await session.createStream([['streamtype', 'error']]);
    const stdout = await session.createStream([['streamtype', 'stdout']]);
    const stderr = await session.createStream([['streamtype', 'stderr']]);
    const [status, out, err] = await Promise.all([readAll(error), readAll(stdout), readAll(stderr)]);
    return { stdout: out, stderr: err, status: status === '' ? {} : (JSON.parse(status) as Record<string, unknown>) };
  } finally {
    session.destroy();
  }
}

/**
 * Attaches over SPDY v4 the way critest does: stdin, stdout and stderr streams; the input is written only
 * after `delayMs` of silence, stdin stays open until `until` shows in stdout, then its FIN ends it.
 */
export async function spdyAttach(url: string, input: string, until: string, delayMs: number): Promise<{ stdout: string; stderr: string; status: Record<string, unknown> }> {
  const { session } = await dialSpdy(url, ['v4.channel.k8s.io']);
  try {
    const error = await session.createStream([['streamtype', 'error']]);
    const stdin = await session.createStream([['streamtype', 'stdin']]);
    const stdout = await session.createStream([['streamtype', 'stdout']]);
    const stderr = await session.createStream([['streamtype', 'stderr']]);
    let out = '';
    stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(until)) stdin.end();
    });
    const outDone = new Promise<void>((resolve) => stdout.once('end', () => resolve()));
    setTimeout(() => stdin.write(Buffer.from(input)), delayMs);
    const [status, err] = await Promise.all([readAll(error), readAll(stderr), outDone]);
    return { stdout: out, stderr: err, status: status === '' ? {} : (JSON.parse(status) as Record<string, unknown>) };
  } finally {
    session.destroy();
  }
}
