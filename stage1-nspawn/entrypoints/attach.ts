// The attach entrypoint: copies the caller's stdin into the stdin of an app started with --stdin=stream.
// The writer runs in the pod (nsenter, then a transient unit of the pod's systemd), never in the app.
import { execve } from '../../common/native.js';
import { parseAttachArgs } from '../../common/stage1-contract.js';
import { attachableStdin, attachStdinArgv } from '../../stage1-shared/units/index.js';
import { readStage1Record } from '../../stage1-shared/record/stage1-record.js';
import { nspawnRecord } from '../flavor/traits.js';
import { findInPath } from '../nspawn/host.js';
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';

async function attach(argv: string[]): Promise<number> {
  const args = parseAttachArgs(argv);
  const rec = await readStage1Record(process.cwd(), nspawnRecord);
  const stdin = attachableStdin(rec?.apps, args.appName);
  const nsenter = findInPath('nsenter');
  const nsArgs = ['--target', String(args.pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup', '--root', '--wd=/'];
  if (rec?.runtime.privateUsers) nsArgs.push('--user');
  return execve(nsenter, [nsenter, ...nsArgs, ...attachStdinArgv(args.appName, stdin)], { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' });
}

runEntrypoint('attach', attach);
