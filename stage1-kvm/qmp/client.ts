// A small typed QMP client: connect, negotiate capabilities, run commands (matched by id), observe events.
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { RktError } from '../../common/errors.js';

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

/** The commands this project sends, with their argument and return types. */
export interface QmpCommands {
  'query-status': { args: undefined; ret: { status: string; running: boolean } };
  'system_powerdown': { args: undefined; ret: Record<string, never> };
  'quit': { args: undefined; ret: Record<string, never> };
  'query-version': { args: undefined; ret: QmpGreeting['version'] };
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; command: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function qmpError(message: string, cause?: unknown): RktError {
  return new RktError('SUBPROCESS', `qmp: ${message}`, cause === undefined ? {} : { cause });
}

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  readonly greeting: QmpGreeting;
  private readonly socket: net.Socket;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(socket: net.Socket, greeting: QmpGreeting, rest: string) {
    super();
    this.socket = socket;
    this.greeting = greeting;
    let buf = rest;
    const onLines = (): void => {
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line !== '') this.onMessage(line);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      onLines();
    });
    socket.on('close', () => this.onClose());
    socket.on('error', () => this.onClose());
    onLines();
  }

  /** Connects to a QMP unix socket and completes the capabilities handshake. */
  static async connect(socketPath: string, timeoutMs = 5000): Promise<QmpClient> {
    const socket = net.createConnection({ path: socketPath });
    const { greeting, rest } = await new Promise<{ greeting: QmpGreeting; rest: string }>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => fail(qmpError(`no greeting from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      socket.on('error', (err) => fail(qmpError(`cannot connect to ${socketPath}: ${err.message}`, err)));
      const onData = (chunk: Buffer): void => {
        buf += chunk.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        socket.off('data', onData);
        socket.removeAllListeners('error');
        clearTimeout(timer);
        let parsed: unknown;
        try {
          parsed = JSON.parse(buf.slice(0, nl));
        } catch (err) {
          fail(qmpError('greeting is not JSON', err));
          return;
        }
        if (!isRecord(parsed) || !isRecord(parsed['QMP'])) {
          fail(qmpError('unexpected greeting (not a QMP server?)'));
          return;
        }
        resolve({ greeting: parsed['QMP'] as unknown as QmpGreeting, rest: buf.slice(nl + 1) });
      };
      socket.on('data', onData);
    });
    const client = new QmpClient(socket, greeting, rest);
    await client.executeRaw('qmp_capabilities', undefined, timeoutMs);
    return client;
  }

  execute<K extends keyof QmpCommands>(command: K, args?: QmpCommands[K]['args'], timeoutMs = 10000): Promise<QmpCommands[K]['ret']> {
    return this.executeRaw(command, args, timeoutMs) as Promise<QmpCommands[K]['ret']>;
  }

  /** Any command by name; the result is unchecked. */
  executeRaw(command: string, args: Record<string, unknown> | undefined, timeoutMs = 10000): Promise<unknown> {
    if (this.closed) return Promise.reject(qmpError(`${command}: connection closed`));
    const id = `rkt-${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(qmpError(`${command}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        command,
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      const msg: Record<string, unknown> = { execute: command, id };
      if (args !== undefined) msg['arguments'] = args;
      this.socket.write(`${JSON.stringify(msg)}\n`);
    });
  }

  /** Resolves with the first event named `name` (or rejects when the connection closes first). */
  waitForEvent(name: string, timeoutMs: number): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { cleanup(); reject(qmpError(`no ${name} event within ${timeoutMs} ms`)); }, timeoutMs);
      const onEvent = (e: QmpEvent): void => { if (e.event === name) { cleanup(); resolve(e); } };
      const onClose = (): void => { cleanup(); reject(qmpError(`connection closed before ${name}`)); };
      const cleanup = (): void => { clearTimeout(timer); this.off('event', onEvent); this.off('close', onClose); };
      this.on('event', onEvent);
      this.on('close', onClose);
    });
  }

  /** Resolves when QEMU closes the connection (it exits), or after timeoutMs with false. */
  waitForClose(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.off('close', onClose); resolve(false); }, timeoutMs);
      const onClose = (): void => { clearTimeout(timer); resolve(true); };
      this.once('close', onClose);
    });
  }

  close(): void {
    this.socket.destroy();
    this.onClose();
  }

  private onMessage(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // QEMU only sends JSON; a torn line at exit is not worth failing over
    }
    if (!isRecord(msg)) return;
    if (typeof msg['event'] === 'string') {
      const data = isRecord(msg['data']) ? msg['data'] : {};
      const ts = isRecord(msg['timestamp']) ? msg['timestamp'] : {};
      this.emit('event', {
        event: msg['event'],
        data,
        timestamp: { seconds: Number(ts['seconds'] ?? 0), microseconds: Number(ts['microseconds'] ?? 0) },
      });
      return;
    }
    const id = typeof msg['id'] === 'string' ? msg['id'] : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return;
    this.pending.delete(id);
    if (isRecord(msg['error'])) {
      const e = msg['error'];
      p.reject(qmpError(`${p.command}: ${String(e['class'] ?? 'Error')}: ${String(e['desc'] ?? 'failed')}`));
    } else {
      p.resolve(msg['return']);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) p.reject(qmpError(`${p.command}: connection closed (QEMU exited?)`));
    this.pending.clear();
    this.emit('close');
  }
}
