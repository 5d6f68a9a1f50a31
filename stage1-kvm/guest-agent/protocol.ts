// The wire format shared with guest/rkt-agent.c: typed frames (type byte, 4-byte big-endian length,
// payload) and the session request. Pure functions; the C side is the other half of the same contract.
export type HostFrame =
  | { type: 'request'; tty: boolean; rows: number; cols: number; argv: string[] }
  | { type: 'stdin'; data: Buffer }
  | { type: 'stdin-eof' }
  | { type: 'winsize'; rows: number; cols: number };

export type GuestFrame =
  | { type: 'stdout'; data: Buffer }
  | { type: 'stderr'; data: Buffer }
  | { type: 'exit'; status: number }
  | { type: 'failure'; message: string };

export const MAX_FRAME = 1 << 20;

function frame(type: string, payload: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(payload.length, 1);
  return Buffer.concat([h, payload]);
}

export function encodeHostFrame(f: HostFrame): Buffer[] {
  switch (f.type) {
    case 'request': {
      const fields = ['1', f.tty ? 'tty' : 'pipe', String(f.rows), String(f.cols), ...f.argv];
      for (const s of fields) if (s.includes('\0')) throw new Error('agent request strings cannot contain NUL');
      return [frame('R', Buffer.from(fields.map((s) => `${s}\0`).join(''), 'utf8'))];
    }
    case 'stdin': {
      const out: Buffer[] = [];
      for (let off = 0; off < f.data.length; off += MAX_FRAME) out.push(frame('I', f.data.subarray(off, off + MAX_FRAME)));
      return out;
    }
    case 'stdin-eof':
      return [frame('E', Buffer.alloc(0))];
    case 'winsize': {
      const p = Buffer.alloc(4);
      p.writeUInt16BE(Math.min(f.rows, 0xffff), 0);
      p.writeUInt16BE(Math.min(f.cols, 0xffff), 2);
      return [frame('W', p)];
    }
  }
}

/** Incremental decoder of the guest's frames; `push` returns every complete frame so far. */
export class GuestFrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): GuestFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: GuestFrame[] = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (len > MAX_FRAME) throw new Error(`agent frame of ${len} bytes exceeds ${MAX_FRAME}`);
      if (this.buf.length < 5 + len) break;
      const type = String.fromCharCode(this.buf[0] ?? 0);
      const payload = this.buf.subarray(5, 5 + len);
      this.buf = this.buf.subarray(5 + len);
      if (type === 'O') out.push({ type: 'stdout', data: Buffer.from(payload) });
      else if (type === 'e') out.push({ type: 'stderr', data: Buffer.from(payload) });
      else if (type === 'X' && len === 4) out.push({ type: 'exit', status: payload.readInt32BE(0) });
      else if (type === 'F') out.push({ type: 'failure', message: payload.toString('utf8') });
      else throw new Error(`unknown agent frame type ${JSON.stringify(type)}`);
    }
    return out;
  }
}
