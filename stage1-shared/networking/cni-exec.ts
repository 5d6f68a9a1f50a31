// Runs one CNI plugin binary (ADD/DEL) the way the CNI spec says: config on stdin, parameters in env.
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { capture } from '../subprocess.js';
import { RktError } from '../../common/errors.js';

/** Where Debian's containernetworking-plugins puts the plugins. */
export const DEFAULT_CNI_PLUGIN_DIRS: readonly string[] = ['/usr/lib/cni'];

// Plugins call iptables/ip themselves; give them a fixed, sane PATH instead of the caller's.
const PLUGIN_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PLUGIN_TIMEOUT_MS = 60_000;

export interface CniCall {
  command: 'ADD' | 'DEL';
  pluginDirs: readonly string[];
  /** The network config object (already carrying name and cniVersion). */
  conf: Record<string, unknown>;
  netName: string;
  containerId: string;
  netnsPath: string;
  ifName: string;
  /** CNI_ARGS ("K=V;K2=V2"), "" for none. */
  args: string;
}

/** Finds the plugin binary for a config "type" in the plugin directories. */
export async function findPlugin(type: string, pluginDirs: readonly string[], netName: string): Promise<string> {
  for (const dir of pluginDirs) {
    const p = path.join(dir, type);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // try the next directory
    }
  }
  throw new RktError('NETWORK_CONFIG', `network "${netName}": CNI plugin "${type}" not found in ${pluginDirs.join(', ')}`, {
    hint: 'install the containernetworking-plugins package (scripts/setup.sh does) or fix the config\'s "type"',
  });
}

/**
 * CNI_ARGS as plugins get it. Arguments usually target the IPAM plugin (IP=...), but the main plugin
 * parses them first and rejects keys it does not know unless IgnoreUnknown is set, so we set it.
 */
export function cniArgsEnv(args: string): string {
  return /(^|;)IgnoreUnknown=/i.test(args) ? args : `IgnoreUnknown=1;${args}`;
}

/** Reads the CNI error object a failing plugin prints ({code, msg, details}). */
function pluginErrorText(stdout: string, stderr: string): string {
  try {
    const v: unknown = JSON.parse(stdout);
    if (typeof v === 'object' && v !== null && typeof (v as { msg?: unknown }).msg === 'string') {
      const o = v as { msg: string; details?: unknown };
      return typeof o.details === 'string' && o.details !== '' ? `${o.msg}: ${o.details}` : o.msg;
    }
  } catch {
    // not a CNI error object; fall through to the raw text
  }
  const raw = (stderr.trim() || stdout.trim()).split('\n').slice(-3).join(' ');
  return raw === '' ? 'no error message' : raw;
}

/** Runs the plugin; returns its stdout (the result JSON for ADD). Throws RktError on failure. */
export async function runCniPlugin(pluginPath: string, call: CniCall): Promise<string> {
  const env: Record<string, string> = {
    PATH: PLUGIN_PATH_ENV,
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netnsPath,
    CNI_IFNAME: call.ifName,
    CNI_PATH: call.pluginDirs.join(':'),
  };
  if (call.args !== '') env['CNI_ARGS'] = cniArgsEnv(call.args);
  const res = await capture(pluginPath, [], { input: JSON.stringify(call.conf), env, timeoutMs: PLUGIN_TIMEOUT_MS });
  if (res.exitCode !== 0 || res.spawnError) {
    const how = res.timedOut
      ? `timed out after ${PLUGIN_TIMEOUT_MS / 1000}s`
      : res.spawnError ? res.spawnError.message : pluginErrorText(res.stdout, res.stderr);
    throw new RktError('NETWORK', `network "${call.netName}": CNI ${call.command} with plugin ${path.basename(pluginPath)} failed: ${how}`, {
      hint: call.command === 'ADD'
        ? 'check the network config (subnet, bridge/master names) and that no other network uses the same addresses'
        : 'the pod\'s network may be partly left behind; run rkt gc again after fixing the cause',
    });
  }
  return res.stdout;
}
