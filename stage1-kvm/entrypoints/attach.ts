// The kvm attach entrypoint: copies the caller's stdin into the stdin of an app started with --stdin=stream,
// through the guest agent (a transient unit of the guest's systemd writes the app's FIFO in the guest).
import { RktError } from '../../common/errors.js';
import { parseAttachArgs } from '../../common/stage1-contract.js';
import { attachableStdin, attachStdinArgv } from '../../stage1-shared/units/index.js';
import { runAgentSession } from '../guest-agent/client.js';
import { readFlavorRecord } from '../launch/flavor-record.js';
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';

async function attach(argv: string[]): Promise<number> {
  const args = parseAttachArgs(argv);
  const podDir = process.cwd();
  const rec = await readFlavorRecord(podDir);
  const stdin = attachableStdin(rec?.apps, args.appName);
  if (!rec) throw new RktError('INTERNAL', 'unreachable: an app profile without a flavor record');
  return runAgentSession({
    podDir, socket: rec.agentSocket, tty: false, argv: attachStdinArgv(args.appName, stdin),
    io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  });
}

runEntrypoint('attach', attach);
