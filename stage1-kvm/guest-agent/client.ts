// Host side of the guest agent: connects to the agent's virtio-serial port (a QEMU chardev socket in the
// pod dir), runs one command session and relays stdio; resolves with the command's exit status.
import net from 'node:net';
import path from 'node:path';
import { RktError } from '../../common/errors.js';
import { encodeHostFrame, GuestFrameDecoder, type HostFrame } from './protocol.js';

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
const MAX_SUN_PATH = 107;

export interface SessionIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream & { rows?: number; columns?: number; on?: (ev: 'resize', cb: () => void) => unknown };
  stderr: NodeJS.WritableStream;
}

export interface SessionOptions {
  /** The pod directory (cwd of stage1 entrypoints). */
  podDir: string;
  /** Pod-dir-relative socket path (from the flavor record). */
  socket: string;
  argv: string[];
  tty: boolean;
  io: SessionIo;
  /** Give up connecting after this long (the VM may be gone). */
  connectTimeoutMs?: number;
  /** Give up on the whole session after this long (none: interactive sessions last as long as they last). */
  sessionTimeoutMs?: number;
}

function connect(podDir: string, socket: string, timeoutMs: number): Promise<net.Socket> {
  const abs = path.resolve(podDir, socket);
  // A long pod dir would overflow sun_path; connect relative to it then (stage1 entrypoints run there).
  const target = abs.length <= MAX_SUN_PATH ? abs : path.relative(process.cwd(), abs);
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path: target });
    const timer = setTimeout(() => { s.destroy(); reject(new RktError('STAGE1', `guest agent: no connection to ${abs} within ${timeoutMs} ms`)); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(new RktError('STAGE1', `guest agent: cannot connect to ${abs}: ${err.message}`, {
        cause: err, hint: 'is the pod running? (rkt status <uuid>)',
      }));
    });
  });
}

export async function runAgentSession(o: SessionOptions): Promise<number> {
  const sock = await connect(o.podDir, o.socket, o.connectTimeoutMs ?? 5000);
  const send = (f: HostFrame): void => { for (const b of encodeHostFrame(f)) sock.write(b); };
  const rows = o.io.stdout.rows ?? 24;
  const cols = o.io.stdout.columns ?? 80;
  send({ type: 'request', tty: o.tty, rows, cols, argv: o.argv });
  const raw = o.tty && o.io.stdin.isTTY === true && typeof o.io.stdin.setRawMode === 'function';
  if (raw) o.io.stdin.setRawMode?.(true);
  const onData = (d: Buffer | string): void => send({ type: 'stdin', data: typeof d === 'string' ? Buffer.from(d) : d });
  const onEnd = (): void => send({ type: 'stdin-eof' });
  const onResize = (): void => send({ type: 'winsize', rows: o.io.stdout.rows ?? rows, cols: o.io.stdout.columns ?? cols });
  o.io.stdin.on('data', onData);
  o.io.stdin.once('end', onEnd);
  if (o.tty) o.io.stdout.on?.('resize', onResize);
  const decoder = new GuestFrameDecoder();
  try {
    return await new Promise<number>((resolve, reject) => {
      sock.on('data', (chunk: Buffer) => {
        let frames;
        try {
          frames = decoder.push(chunk);
        } catch (err) {
          reject(new RktError('STAGE1', `guest agent: ${(err as Error).message}`));
          return;
        }
        for (const f of frames) {
          if (f.type === 'stdout') o.io.stdout.write(f.data);
          else if (f.type === 'stderr') o.io.stderr.write(f.data);
          else if (f.type === 'exit') resolve(f.status);
          else reject(new RktError('STAGE1', `guest agent: ${f.message}`));
        }
      });
      if (o.sessionTimeoutMs !== undefined) {
        const t = setTimeout(() => reject(new RktError('STAGE1', `guest agent: no answer within ${o.sessionTimeoutMs} ms`)), o.sessionTimeoutMs);
        sock.once('close', () => clearTimeout(t));
      }
      sock.once('close', () => reject(new RktError('STAGE1', 'guest agent: connection closed before the command ended (the VM stopped?)')));
      sock.once('error', (err) => reject(new RktError('STAGE1', `guest agent: ${err.message}`, { cause: err })));
    });
  } finally {
    o.io.stdin.off('data', onData);
    o.io.stdin.off('end', onEnd);
    if (raw) o.io.stdin.setRawMode?.(false);
    o.io.stdin.pause();
    sock.destroy();
  }
}
