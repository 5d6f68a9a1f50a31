// What the streaming server runs: exec is `rkt enter` (kvm pods reach the guest through its agent), attach
// follows the app's journal (output only: apps have no stdin to attach to), port-forward dials the pod's IP.
import { spawn, type ChildProcess } from 'node:child_process';
import { podDirIn } from '../../../common/pod-layout.js';
import { podJournalDir } from '../../pod/journal.js';
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
      const journal = podJournalDir(podDirIn(rt.dataDir, 'run', t.podUuid), t.podUuid);
      if (journal === undefined) throw new Error(`pod ${t.podUuid} has no journal yet`);
      return asStreamProcess(spawn('journalctl', ['-D', journal, '--no-pager', '-o', 'cat', '-f', '-n', '0', `SYSLOG_IDENTIFIER=${t.app}`], { stdio: ['pipe', 'pipe', 'pipe'] }));
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
