// Validated isolators built from command-line values (--memory, --cpu, --cpu-shares, --oom-score-adj,
// --caps-retain/--caps-remove, --seccomp, sysctls); a bad value is a usage error (exit 2).

import { RktError } from '../errors.js';
import { type IsolatorName, type IsolatorSpec, type IsolatorValues, SPECS, type TypedIsolator } from './isolators.js';
import { SchemaError } from './reader.js';

/** Build a validated isolator of a known kind from a JSON-shaped value. */
export function makeIsolator<K extends IsolatorName>(name: K, value: unknown): TypedIsolator<K> {
  try {
    return { name, value: (SPECS[name] as IsolatorSpec<unknown>).parse(value, 'value') as IsolatorValues[K] };
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    throw new RktError('USAGE', `invalid ${name} isolator: ${err.message}`, { cause: err });
  }
}

export function memoryIsolator(limit: string, request?: string): TypedIsolator<'resource/memory'> {
  return makeIsolator('resource/memory', request === undefined ? { limit } : { request, limit });
}

export function cpuIsolator(limit: string, request?: string): TypedIsolator<'resource/cpu'> {
  return makeIsolator('resource/cpu', request === undefined ? { limit } : { request, limit });
}

export function cpuSharesIsolator(shares: number): TypedIsolator<'os/linux/cpu-shares'> {
  return makeIsolator('os/linux/cpu-shares', shares);
}

export function oomScoreAdjIsolator(adj: number): TypedIsolator<'os/linux/oom-score-adj'> {
  return makeIsolator('os/linux/oom-score-adj', adj);
}

export function noNewPrivilegesIsolator(on = true): TypedIsolator<'os/linux/no-new-privileges'> {
  return makeIsolator('os/linux/no-new-privileges', on);
}

export function capsRetainIsolator(caps: readonly string[]): TypedIsolator<'os/linux/capabilities-retain-set'> {
  return makeIsolator('os/linux/capabilities-retain-set', { set: [...caps] });
}

export function capsRemoveIsolator(caps: readonly string[]): TypedIsolator<'os/linux/capabilities-remove-set'> {
  return makeIsolator('os/linux/capabilities-remove-set', { set: [...caps] });
}

export function seccompIsolator(
  mode: 'retain' | 'remove',
  syscalls: readonly string[],
  errno?: string,
): TypedIsolator<'os/linux/seccomp-retain-set' | 'os/linux/seccomp-remove-set'> {
  const value = errno === undefined ? { set: [...syscalls] } : { set: [...syscalls], errno };
  return mode === 'retain'
    ? makeIsolator('os/linux/seccomp-retain-set', value)
    : makeIsolator('os/linux/seccomp-remove-set', value);
}

export function sysctlIsolator(settings: Readonly<Record<string, string>>): TypedIsolator<'os/unix/sysctl'> {
  return makeIsolator('os/unix/sysctl', { ...settings });
}
