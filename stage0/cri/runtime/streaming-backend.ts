// What the streaming server runs: exec is `rkt enter` (kvm pods reach the guest through its agent), attach
// follows the app's journal (output only: apps have no stdin to attach to), port-forward dials the pod's IP.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { journalDir, journalRoot, machineId } from '../../../common/pod-layout.js';
import { podDirIn } from '../../../common/pod-layout.js';
import type { AttachTarget, ExecTarget, StreamingBackend, StreamProcess } from '../streaming/server.js';
import type { CriRuntime } from './context.js';
import { readSandbox } from './cri-pods.js';
import { sandboxIp } from './sandboxes.js';

function asStreamProcess(child: ChildProcess): StreamProcess {
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    resize: () => undefined, // no terminal: rkt enter runs the command on pipes
    kill: () => { child.kill('SIGKILL'); },
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
      const dir = podDirIn(rt.dataDir, 'run', t.podUuid);
      const child = spawn('sh', ['-c', 'd="$1"; [ -d "$d" ] || d="$2"; exec journalctl -D "$d" --no-pager -o cat -f -n 0 "SYSLOG_IDENTIFIER=$3"', 'attach',
        journalDir(dir, machineId(t.podUuid)), journalRoot(dir), t.app], { stdio: ['pipe', 'pipe', 'pipe'] });
      return asStreamProcess(child);
    },
    async portAddress(podUuid: string, port: number) {
      const sb = await readSandbox(rt.dataDir, podUuid);
      if (sb === undefined) throw new Error(`pod sandbox ${podUuid} is gone`);
      if (sb.record.networkMode === 'NODE') return { host: '127.0.0.1', port };
      const ip = (await sandboxIp(sb))[0];
      if (ip === undefined) throw new Error(`pod sandbox ${podUuid} has no IP address`);
      await fs.access(sb.snap.dir);
      return { host: ip, port };
    },
  };
}
