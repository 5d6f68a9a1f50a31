// The kvm enter entrypoint: asks the guest agent to run the command as a transient unit of the guest's
// systemd with the app unit's sandbox properties (root, identity, env, capabilities, seccomp, slice), so
// an entered process is confined exactly like the app. No SSH, no network needed.
import tty from 'node:tty';
import { RktError } from '../../common/errors.js';
import { appRootfsPath } from '../../common/pod-layout.js';
import { parseEnterArgs } from '../../common/stage1-contract.js';
import { resolveExecInRoot } from '../../common/units/index.js';
import { runAgentSession } from '../guest-agent/client.js';
import { readFlavorRecord, type EnterProfile } from '../launch/flavor-record.js';
import { runEntrypoint } from './main.js';

/** The guest command: systemd-run with the app's properties (shared shape with the nspawn stage1). */
export function enterArgv(app: string, profile: EnterProfile, command: string[], interactive: boolean): string[] {
  return [
    '/usr/bin/systemd-run', '--quiet', '--wait', '--collect', '--service-type=exec',
    interactive ? '--pty' : '--pipe',
    `--description=rkt enter ${app}`,
    ...profile.properties.map(([k, v]) => `--property=${k}=${v}`),
    `--property=WorkingDirectory=${profile.workingDirectory}`,
    // systemd expands ${VAR} in a transient unit's command line; "$$" keeps a literal "$".
    '--', ...command.map((a) => a.replace(/\$/g, '$$$$')),
  ];
}

async function enter(argv: string[]): Promise<number> {
  const args = parseEnterArgs(argv);
  const podDir = process.cwd();
  const rec = await readFlavorRecord(podDir);
  const profile = rec?.apps[args.appName];
  if (!rec || !profile) {
    throw new RktError('POD_INVALID', `cannot enter app "${args.appName}": the pod has no such app`, {
      hint: 'see the pod\'s apps with: rkt status <uuid>',
    });
  }
  const [cmd, ...rest] = args.command;
  const bin = await resolveExecInRoot(appRootfsPath(podDir, args.appName), cmd ?? '', profile.path);
  if (bin === undefined) {
    throw new RktError('USAGE', `cannot enter app "${args.appName}": command "${cmd ?? ''}" not found in the app (PATH ${profile.path})`);
  }
  const interactive = tty.isatty(0);
  return runAgentSession({
    podDir, socket: rec.agentSocket, tty: interactive, argv: enterArgv(args.appName, profile, [bin, ...rest], interactive),
    io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  });
}

runEntrypoint('enter', enter);
