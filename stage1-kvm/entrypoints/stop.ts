// The kvm stop entrypoint. Graceful: the guest agent runs `systemctl poweroff` (apps get their units'
// KillSignal=, SIGTERM unless an OCI image names a StopSignal; the reapers record their statuses, the VM
// powers off and QEMU exits). --force, or no agent: QMP `quit`, then SIGKILL of QEMU. Returns once the stop is delivered; rkt stop waits for the pod lock.
import { Readable, Writable } from 'node:stream';
import { RktError } from '../../common/errors.js';
import { parseStopArgs } from '../../common/stage1-contract.js';
import { runAgentSession } from '../guest-agent/client.js';
import { readFlavorRecord } from '../launch/flavor-record.js';
import { killQemu, livePodQemu, quitQemu } from '../launch/qemu-process.js';
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';

async function exitsWithin(podDir: string, uuid: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await livePodQemu(podDir, uuid)) === undefined) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function stop(argv: string[]): Promise<number> {
  const args = parseStopArgs(argv);
  const podDir = process.cwd();
  const rec = await readFlavorRecord(podDir);
  if (!rec) throw new RktError('POD_STATE', `pod ${args.uuid} has no kvm stage1 record: it never started`);
  if (!args.force) {
    const sink = new Writable({ write(_c, _e, cb) { cb(); } });
    try {
      await runAgentSession({
        // poweroff.target directly: `systemctl poweroff` would ask logind, which a pod does not run
        podDir, socket: rec.agentSocket, tty: false,
        argv: ['/bin/systemctl', '--no-block', '--job-mode=replace-irreversibly', 'start', 'poweroff.target'],
        io: { stdin: Readable.from([]), stdout: sink, stderr: process.stderr }, connectTimeoutMs: 3000,
        // a guest still booting starts its agent within seconds; a wedged one gets forced
        sessionTimeoutMs: 30_000,
      });
      return 0;
    } catch (err) {
      // the shutdown may end the agent before it reports: QEMU exiting soon is what counts
      if (await exitsWithin(podDir, args.uuid, 2000)) return 0;
      process.stderr.write(`stage1 stop: graceful stop failed (${err instanceof Error ? err.message : String(err)}), forcing\n`);
    }
  }
  if (await quitQemu(podDir, rec)) return 0;
  await killQemu(podDir, args.uuid);
  return 0;
}

runEntrypoint('stop', stop);
