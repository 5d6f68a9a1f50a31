// Runs the host tools networking needs (ip, nft, tc, sysctl via /proc) and turns failures into RktErrors.
import { capture } from '../subprocess.js';
import { RktError } from '../../common/errors.js';

const TOOL_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ToolResult { exitCode: number; stdout: string; stderr: string }

/** Runs a command; with `check` (default) a non-zero exit throws naming the command. */
export async function tool(file: string, args: readonly string[], opts: { input?: string; check?: boolean; netns?: string } = {}): Promise<ToolResult> {
  // nsenter runs the tool inside a namespace given by path (works for any bind-mounted netns file).
  const [cmd, argv] = opts.netns === undefined ? [file, [...args]] : ['nsenter', [`--net=${opts.netns}`, '--', file, ...args]];
  const res = await capture(cmd, argv, {
    env: { PATH: TOOL_PATH_ENV, LC_ALL: 'C' },
    timeoutMs: 30_000,
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
  const out: ToolResult = { exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr };
  if ((opts.check ?? true) && out.exitCode !== 0) {
    const why = res.spawnError?.message ?? (out.stderr.trim().split('\n').slice(-2).join(' ') || `exit status ${out.exitCode}`);
    throw new RktError('NETWORK', `${cmd} ${argv.join(' ')} failed: ${why}`, {
      hint: `make sure ${file} (iproute2/nftables) is installed and rkt runs as root`,
    });
  }
  return out;
}

/** Parses `ip -j ...` output. */
export function parseIpJson(stdout: string, what: string): unknown[] {
  try {
    const v: unknown = JSON.parse(stdout.trim() === '' ? '[]' : stdout);
    if (Array.isArray(v)) return v;
  } catch {
    // fall through
  }
  throw new RktError('NETWORK', `cannot read ${what}: unexpected output from ip -j`);
}
