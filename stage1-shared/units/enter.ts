// What `rkt enter` runs inside a pod, for both stage1s: a transient unit of the pod's systemd with
// the app unit's own sandbox properties, so an entered process is confined exactly like the app.
import { RktError } from '../../common/errors.js';
import { appRootfsPath } from '../../common/pod-layout.js';
import { resolveExecInRoot } from './app-spec.js';
import type { AppStdin } from './stdin.js';

/** Recorded per app by each stage1's run entrypoint and read back by its enter entrypoint. */
export interface EnterProfile {
  /** The app unit's sandbox properties (appSandboxProperties). */
  properties: Array<[string, string]>;
  /** The app's PATH, to resolve the entered command. */
  path: string;
  workingDirectory: string;
  /** The app reads an attachable stdin (the attach entrypoint reads this). */
  stdin?: AppStdin;
}

/** The recorded profile of the app to enter; a pod without that app (or without a record) is refused. */
export function enterProfileFor(apps: Readonly<Record<string, EnterProfile>> | undefined, app: string): EnterProfile {
  const profile = apps?.[app];
  if (profile === undefined) {
    throw new RktError('POD_INVALID', `cannot enter app "${app}": the pod has no such app`, {
      hint: 'see the pod\'s apps with: rkt status <uuid>',
    });
  }
  return profile;
}

/** The entered command with its program resolved inside the app's rootfs (as the app's PATH would). */
export async function resolveEnterCommand(podDir: string, app: string, profile: EnterProfile, command: readonly string[]): Promise<string[]> {
  const [cmd, ...rest] = command;
  const bin = await resolveExecInRoot(appRootfsPath(podDir, app), cmd ?? '', profile.path);
  if (bin === undefined) {
    throw new RktError('USAGE', `cannot enter app "${app}": command "${cmd ?? ''}" not found in the app (PATH ${profile.path})`);
  }
  return [bin, ...rest];
}

/**
 * `systemd-run --wait` argv that runs `command` confined like the app, with a pty when interactive.
 * A timeout is the unit's RuntimeMaxSec: the pod's systemd stops the command and everything it forked
 * (killing the entering process would leave the transient unit running in the pod).
 */
export function transientEnterArgv(app: string, profile: EnterProfile, command: readonly string[], interactive: boolean, timeoutS?: number): string[] {
  const limit = timeoutS !== undefined ? [`--property=RuntimeMaxSec=${timeoutS}s`, '--property=TimeoutStopSec=5s'] : [];
  return [
    '/usr/bin/systemd-run', '--quiet', '--wait', '--collect', '--service-type=exec',
    interactive ? '--pty' : '--pipe',
    `--description=rkt enter ${app}`,
    ...profile.properties.map(([k, v]) => `--property=${k}=${v}`),
    `--property=WorkingDirectory=${profile.workingDirectory}`,
    ...limit,
    // systemd expands ${VAR} in a transient unit's command line; "$$" keeps a literal "$".
    '--', ...command.map((a) => a.replace(/\$/g, '$$$$')),
  ];
}
