// The enter entrypoint: runs a command confined exactly like the app (root, identity, env, capability
// bounding set, seccomp filter, the app's slice/cgroup): it joins the pod's namespaces with nsenter and
// asks the pod's systemd for a transient unit with the app unit's sandbox properties (systemd-run --wait),
// so nothing runs with the entering process's full privileges (rkt's CVE-2019-10144/10145/10147).
import tty from 'node:tty';
import { RktError } from '../../common/errors.js';
import { execve, setCloexec } from '../../common/native.js';
import { appRootfsPath } from '../../common/pod-layout.js';
import { parseEnterArgs } from '../../common/stage1-contract.js';
import { resolveExecInRoot } from '../../common/units/index.js';
import { readFlavorInfo } from '../nspawn/flavor-info.js';
import { findInPath } from '../nspawn/host.js';
import { runEntrypoint } from './main.js';

async function enter(argv: string[]): Promise<number> {
  const args = parseEnterArgs(argv);
  const podDir = process.cwd();
  const info = await readFlavorInfo(podDir);
  const profile = info?.apps[args.appName];
  if (!info || !profile) {
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
  const nsenter = findInPath('nsenter');
  const nsArgs = ['--target', String(args.pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup', '--root', '--wd=/'];
  if (info.privateUsers) nsArgs.push('--user');
  const run = [
    '/usr/bin/systemd-run', '--quiet', '--wait', '--collect', '--service-type=exec',
    interactive ? '--pty' : '--pipe',
    `--description=rkt enter ${args.appName}`,
    ...profile.properties.map(([k, v]) => `--property=${k}=${v}`),
    `--property=WorkingDirectory=${profile.workingDirectory}`,
    // The pod's systemd expands ${VAR} in a transient unit's command line; "$$" keeps a literal "$".
    '--', ...[bin, ...rest].map((a) => a.replace(/\$/g, '$$$$')),
  ];
  for (const std of [0, 1, 2]) setCloexec(std, false);
  return execve(nsenter, [nsenter, ...nsArgs, ...run], { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...(process.env['TERM'] ? { TERM: process.env['TERM'] } : {}) });
}

runEntrypoint('enter', enter);
