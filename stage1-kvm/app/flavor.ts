// The kvm flavor's answers to the app entrypoints: commands run in the guest through the guest agent (as
// enter and stop do); with --private-users an added tree is shifted like run shifts the whole stage1 tree
// (QEMU serves it from inside the pod's user namespace); the guest drops its 9p caches before systemd
// reads what the host wrote (the root is mounted cache=loose); apps must fit the sandbox VM's RAM.
import { Readable, Writable } from 'node:stream';
import type { AppFlavor } from '../../stage1-shared/app/flavor.js';
import type { Stage1Record } from '../../stage1-shared/record/stage1-record.js';
import { runAgentSession } from '../guest-agent/client.js';
import { kvmTraits, type KvmState } from '../flavor/traits.js';
import { admitMemory } from './admit.js';

function collector(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write(c: Buffer | string, _e, cb) { chunks.push(typeof c === 'string' ? Buffer.from(c) : c); cb(); } }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

async function execInPod(podDir: string, rec: Stage1Record<KvmState>, argv: readonly string[], opts: { timeoutMs: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = collector();
  const err = collector();
  const code = await runAgentSession({
    podDir, socket: rec.flavorState.agentSocket, tty: false, argv: [...argv],
    io: { stdin: Readable.from([]), stdout: out.stream, stderr: err.stream }, connectTimeoutMs: 5000, sessionTimeoutMs: opts.timeoutMs,
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

export const kvmAppFlavor: AppFlavor<KvmState> = {
  traits: kvmTraits,
  execInPod,
  diskShift: (rec) => rec.runtime.privateUsers,
  admitApp: (a) => admitMemory(a.podDir, a.record.flavorState.appMemoryMiB, a.pod, a.app.name, a.spec.memoryMax),
  // drops only clean, unused dentries, inodes and pages: nothing the guest wrote is lost
  refreshArgv: ['/bin/sh', '-c', 'echo 3 > /proc/sys/vm/drop_caches'],
};
