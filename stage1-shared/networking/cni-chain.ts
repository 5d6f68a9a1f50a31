// Runs a network's plugins as the CNI spec says for config lists: ADD in order, each plugin getting the
// previous one's result as prevResult; DEL in reverse order, each getting the last ADD result. A single
// plugin config is a chain of one (with no prevResult on ADD).
import { runCniPlugin, type CniCall } from './cni-exec.js';

/** One plugin of a network's chain as recorded for teardown. */
export interface ChainPlugin { pluginPath: string; conf: Record<string, unknown> }

function versionAtLeast(v: unknown, major: number, minor: number): boolean {
  if (typeof v !== 'string') return false;
  const [a, b] = v.split('.').map(Number);
  return a !== undefined && b !== undefined && (a > major || (a === major && b >= minor));
}

/** From CNI 0.4.0 on, DEL gets the ADD result as prevResult (the spec's earlier versions did not define it). */
export function withPrevResult(conf: Record<string, unknown>, result: unknown): Record<string, unknown> {
  if (result !== undefined && versionAtLeast(conf['cniVersion'], 0, 4)) return { ...conf, prevResult: result };
  return conf;
}

type CallBase = Omit<CniCall, 'command' | 'conf'>;

/**
 * ADD through the chain. `onResult` runs after each plugin succeeds with the result so far (record it:
 * a later plugin's failure must still DEL what the earlier ones did). Returns the last plugin's stdout.
 */
export async function addChain(chain: readonly ChainPlugin[], base: CallBase, onResult: (raw: unknown) => Promise<void>): Promise<string> {
  let prev: unknown;
  let out = '';
  for (const p of chain) {
    // ADD always passes prevResult to the later plugins of a list (the spec's chaining), whatever the version.
    const conf = prev === undefined ? p.conf : { ...p.conf, prevResult: prev };
    out = await runCniPlugin(p.pluginPath, { ...base, command: 'ADD', conf });
    prev = JSON.parse(out) as unknown;
    await onResult(prev);
  }
  return out;
}

/**
 * DEL through the chain in reverse. Every plugin is tried; the first failure is thrown at the end.
 * CNI_ARGS a plugin rejects on DEL are dropped for a retry (DEL finds the attachment by container id).
 */
export async function delChain(chain: readonly ChainPlugin[], base: CallBase, result: unknown): Promise<void> {
  let first: unknown;
  for (const p of [...chain].reverse()) {
    const call: CniCall = { ...base, command: 'DEL', conf: withPrevResult(p.conf, result) };
    try {
      try {
        await runCniPlugin(p.pluginPath, call);
      } catch (err) {
        if (call.args === '') throw err;
        await runCniPlugin(p.pluginPath, { ...call, args: '' });
      }
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}
