// The kvm enter entrypoint: asks the guest agent to run the command as a transient unit of the guest's
// systemd with the app unit's sandbox properties (root, identity, env, capabilities, seccomp, slice), so
// an entered process is confined exactly like the app. No SSH, no network needed.
import tty from 'node:tty';
import { RktError } from '../../common/errors.js';
import { parseEnterArgs } from '../../common/stage1-contract.js';
import { enterProfileFor, resolveEnterCommand, transientEnterArgv } from '../../stage1-shared/units/index.js';
import { runAgentSession } from '../guest-agent/client.js';
import { readFlavorRecord } from '../launch/flavor-record.js';
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';

async function enter(argv: string[]): Promise<number> {
  const args = parseEnterArgs(argv);
  const podDir = process.cwd();
  const rec = await readFlavorRecord(podDir);
  const profile = enterProfileFor(rec?.apps, args.appName);
  if (!rec) throw new RktError('INTERNAL', 'unreachable: an app profile without a flavor record');
  const command = await resolveEnterCommand(podDir, args.appName, profile, args.command);
  const interactive = tty.isatty(0);
  return runAgentSession({
    podDir, socket: rec.agentSocket, tty: interactive, argv: transientEnterArgv(args.appName, profile, command, interactive, args.timeoutS),
    io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  });
}

runEntrypoint('enter', enter);
