// The values the CRI code and the streaming server hand each other (re-exported by server.ts).

/** An `Exec` RPC's request, kept under a token until the client connects. */
export interface ExecTarget {
  podUuid: string;
  app: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** An `Attach` RPC's request, kept under a token until the client connects. */
export interface AttachTarget {
  podUuid: string;
  app: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** A `PortForward` RPC's request; a `ports=` query on the URL replaces `ports` when present. */
export interface PortForwardTarget {
  podUuid: string;
  ports: number[];
}

/** A running exec or attach as the backend hands it over: the session pipes its stdio and waits for `exited`. */
export interface StreamProcess {
  stdin: NodeJS.WritableStream | null;
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  /** A terminal resize from the client (channel 4); may be a no-op. */
  resize(width: number, height: number): void;
  /** Called when the client goes away before the process ends, and on server close. */
  kill(): void;
  exited: Promise<{ exitCode: number }>;
}

/** What the server needs from the runtime; the CRI code implements it (exec = `rkt enter`, ports = the pod's IP). */
export interface StreamingBackend {
  /** Starts the command; the session pipes stdio and reports the exit code. tty: the backend decides how (e.g. `script`), `resize` may be a no-op. */
  spawnExec(t: ExecTarget): StreamProcess;
  /** Attach: a stream of the container's output (and stdin if it is supported; the backend may return a process that never exits until the client closes). */
  spawnAttach(t: AttachTarget): StreamProcess;
  /** Where a pod's port is reachable from the host. */
  portAddress(podUuid: string, port: number): Promise<{ host: string; port: number }>;
}

export interface StreamingServer {
  /** `http://<host>:<port>` of the bound socket (IPv6 hosts in brackets). */
  readonly baseUrl: string;
  /** Returns `<baseUrl>/exec/<token>`. */
  registerExec(t: ExecTarget): string;
  /** Returns `<baseUrl>/attach/<token>`. */
  registerAttach(t: AttachTarget): string;
  /** Returns `<baseUrl>/portforward/<token>`. */
  registerPortForward(t: PortForwardTarget): string;
  /** Stops listening, ends every open session (killing its process) and forgets all tokens. */
  close(): Promise<void>;
}

export type LogFn = (line: string) => void;
