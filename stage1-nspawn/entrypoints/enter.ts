// The enter entrypoint: runs a command confined exactly like the app (root, identity, env, capability
// bounding set, seccomp filter, the app's slice/cgroup): it joins the pod's namespaces with nsenter and
// asks the pod's systemd for a transient unit with the app unit's sandbox properties (systemd-run --wait),
// so nothing runs with the entering process's full privileges (rkt's CVE-2019-10144/10145/10147).
import tty from 'node:tty';
import { execve } from '../../common/native.js';
import { parseEnterArgs } from '../../common/stage1-contract.js';
import { enterProfileFor, resolveEnterCommand, transientEnterArgv } from '../../stage1-shared/units/index.js';
import { readStage1Record } from '../../stage1-shared/record/stage1-record.js';
import { nspawnRecord } from '../flavor/traits.js';
import { findInPath } from '../nspawn/host.js';
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';

async function enter(argv: string[]): Promise<number> {
  const args = parseEnterArgs(argv);
  const podDir = process.cwd();
  const rec = await readStage1Record(podDir, nspawnRecord);
  const profile = enterProfileFor(rec?.apps, args.appName);
  const command = await resolveEnterCommand(podDir, args.appName, profile, args.command);
  const interactive = tty.isatty(0);
  const nsenter = findInPath('nsenter');
  const nsArgs = ['--target', String(args.pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup', '--root', '--wd=/'];
  if (rec?.runtime.privateUsers) nsArgs.push('--user');
  const run = transientEnterArgv(args.appName, profile, command, interactive, args.timeoutS);
  return execve(nsenter, [nsenter, ...nsArgs, ...run], { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...(process.env['TERM'] ? { TERM: process.env['TERM'] } : {}) });
}

runEntrypoint('enter', enter);
