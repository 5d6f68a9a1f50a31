// Parses the --net list ("default", "host", "none", "a,b", "name:K=V;K2=V2") into a typed selection.
import { RktError } from '../errors.js';

/** One CNI network the pod joins, with the CNI_ARGS string passed to its plugin. */
export interface NetRequest {
  name: string;
  /** CNI_ARGS as given after the colon ("K=V;K2=V2"); "" when none. */
  args: string;
}

/**
 * What the pod's network looks like: the host's stack, loopback only, or a private namespace
 * joined to one or more CNI networks (in order: the first gets eth0).
 */
export type NetSelection =
  | { kind: 'host' }
  | { kind: 'none' }
  | { kind: 'cni'; networks: NetRequest[]; all: boolean };

/** CNI's rule for network names (also the rule for our file-based networks). */
export const NET_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const CNI_ARG_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function usage(message: string, hint?: string): RktError {
  return new RktError('NETWORK_CONFIG', message, {
    hint: hint ?? 'use --net=default, default-restricted, host, none, or a comma-separated list of network names with optional ":K=V;K2=V2" CNI args',
    exitCode: 2,
  });
}

/**
 * Parses the --net value(s). Accepts the raw flag value ("a,b:K=V") or the list stage1s get
 * from parseRunArgs (already split on commas). An empty list means `default`, as in rkt.
 */
export function parseNetList(input: string | readonly string[]): NetSelection {
  const items = (typeof input === 'string' ? input.split(',') : input.flatMap((s) => s.split(',')))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) return { kind: 'cni', networks: [{ name: 'default', args: '' }], all: false };

  const special = items.filter((s) => s === 'host' || s === 'none' || s.startsWith('host:') || s.startsWith('none:'));
  if (special.length > 0) {
    const first = special[0] ?? '';
    if (first.includes(':')) throw usage(`invalid --net: "${first.split(':')[0]}" takes no arguments, got "${first}"`);
    if (items.length > 1) throw usage(`invalid --net: "${first}" cannot be combined with other networks, got "${items.join(',')}"`);
    return first === 'host' ? { kind: 'host' } : { kind: 'none' };
  }

  const networks: NetRequest[] = [];
  let all = false;
  for (const item of items) {
    const colon = item.indexOf(':');
    const name = colon < 0 ? item : item.slice(0, colon);
    const args = colon < 0 ? '' : item.slice(colon + 1);
    if (name === 'all') {
      if (args !== '') throw usage(`invalid --net: "all" takes no arguments, got "${item}"`);
      all = true;
      continue;
    }
    if (!NET_NAME_RE.test(name)) {
      throw usage(`invalid --net: network name "${name}" must match ${NET_NAME_RE.source}`);
    }
    validateCniArgs(args, name);
    if (networks.some((n) => n.name === name)) throw usage(`invalid --net: network "${name}" is listed twice`);
    networks.push({ name, args });
  }
  return { kind: 'cni', networks, all };
}

/** Checks a CNI_ARGS string: ";"-separated K=V pairs with identifier keys. */
export function validateCniArgs(args: string, netName: string): void {
  if (args === '') return;
  for (const pair of args.split(';')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !CNI_ARG_KEY_RE.test(key)) {
      throw usage(`invalid --net: network "${netName}": CNI argument "${pair}" must be KEY=VALUE`,
        'write per-network arguments as --net=name:KEY=VALUE;KEY2=VALUE2 (quote the ";" in a shell)');
    }
  }
}

/** Renders a selection back to the --net flag value (stage0 -> stage1 argv). */
export function formatNetList(sel: NetSelection): string {
  if (sel.kind !== 'cni') return sel.kind;
  const parts = sel.networks.map((n) => (n.args === '' ? n.name : `${n.name}:${n.args}`));
  if (sel.all) parts.unshift('all');
  return parts.join(',');
}

/** True when the pod gets its own network namespace (everything but host). */
export function isContained(sel: NetSelection): boolean {
  return sel.kind !== 'host';
}
