// The kvm stop entrypoint. Graceful: the guest agent runs `systemctl poweroff` (apps get SIGTERM, the
// reapers record their statuses, the VM powers off and QEMU exits). --force, or no agent: QMP `quit`,
// then SIGKILL of QEMU. Returns once the stop is delivered; rkt stop waits for the pod lock.
import { Readable, Writable } from 'node:stream';
import { RktError } from '../../common/errors.js';
import { parseStopArgs } from '../../common/stage1-contract.js';
import { runAgentSession } from '../guest-agent/client.js';
import { readFlavorRecord } from '../launch/flavor-record.js';
import { killQemu, quitQemu } from '../launch/qemu-process.js';
import { runEntrypoint } from './main.js';

async function stop(argv: string[]): Promise<number> {
  const args = parseStopArgs(argv);
  const podDir = process.cwd();
  const rec = await readFlavorRecord(podDir);
  if (!rec) throw new RktError('POD_STATE', `pod ${args.uuid} has no kvm stage1 record: it never started`);
  if (!args.force) {
    const sink = new Writable({ write(_c, _e, cb) { cb(); } });
    try {
      await runAgentSession({
        podDir, socket: rec.agentSocket, tty: false, argv: ['/bin/systemctl', '--no-block', 'poweroff'],
        io: { stdin: Readable.from([]), stdout: sink, stderr: process.stderr }, connectTimeoutMs: 3000,
      });
      return 0;
    } catch (err) {
      process.stderr.write(`stage1 stop: graceful stop failed (${err instanceof Error ? err.message : String(err)}), forcing\n`);
    }
  }
  if (await quitQemu(podDir, rec)) return 0;
  await killQemu(podDir, args.uuid);
  return 0;
}

runEntrypoint('stop', stop);
