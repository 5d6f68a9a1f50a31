// What the streaming server runs: exec is `rkt enter` and attach `rkt attach` (kvm pods reach the guest through
// its agent), port-forward dials the pod's IP.
import type { ChildProcess } from 'node:child_process';
import type { AttachTarget, ExecTarget, StreamingBackend, StreamProcess } from '../streaming/server.js';
import type { CriRuntime } from './context.js';
import { readSandbox } from './cri-pods.js';
import { sandboxIp } from './sandboxes.js';

/** `stopSignal`: rkt attach ends its journal follower and stdin writer on SIGTERM; SIGKILL would orphan them. */
function asStreamProcess(child: ChildProcess, stopSignal: NodeJS.Signals = 'SIGKILL'): StreamProcess {
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    resize: () => undefined, // no terminal: rkt enter runs the command on pipes
    kill: () => { child.kill(stopSignal); },
    exited: new Promise((resolve) => {
      child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 137 : 1) }));
      child.on('error', () => resolve({ exitCode: 126 }));
    }),
  };
}

export function streamingBackend(rt: CriRuntime): StreamingBackend {
  return {
    spawnExec(t: ExecTarget) {
      return asStreamProcess(rt.rkt.spawnPiped(['enter', `--app=${t.app}`, t.podUuid, ...t.cmd]));
    },
    spawnAttach(t: AttachTarget) {
      // rkt attach ends when the app exits, with its exit code: the session's closing status.
      const streams = [t.stdin ? 'stdin' : '', t.stdout ? 'stdout' : '', t.stderr ? 'stderr' : ''].filter((x) => x !== '');
      const child = rt.rkt.spawnPiped(['attach', `--app=${t.app}`, `--mode=${streams.join(',') || 'stdout'}`, t.podUuid]);
      if (!t.stdin) child.stdin?.end();
      return asStreamProcess(child, 'SIGTERM');
    },
    async portAddress(podUuid: string, port: number) {
      const sb = await readSandbox(rt.dataDir, podUuid);
      if (sb === undefined) throw new Error(`pod sandbox ${podUuid} is gone`);
      if (sb.record.networkMode === 'NODE') return { host: '127.0.0.1', port };
      const ip = (await sandboxIp(sb))[0];
      if (ip === undefined) throw new Error(`pod sandbox ${podUuid} has no IP address`);
      return { host: ip, port };
    },
  };
}
