// What a stage1 understands, by its declared interface version (rkt's predicates). Stage0 drops a flag
// the stage1 is too old for, with a warning, instead of failing.
export function supportsHostname(v: number): boolean {
  return v >= 2;
}

export function supportsInsecureOptions(v: number): boolean {
  return v >= 3;
}

export function supportsDnsConfMode(v: number): boolean {
  return v >= 4;
}

export function supportsGcLocalConfig(v: number): boolean {
  return v >= 5;
}

export interface RunFlagWishes {
  hostname: boolean;
  insecureOptions: boolean;
  dnsConfMode: boolean;
}

/** Warnings for flags the user asked for that this stage1 will not receive. */
export function unsupportedRunFlagWarnings(v: number, wants: RunFlagWishes): string[] {
  const out: string[] = [];
  if (wants.hostname && !supportsHostname(v)) out.push('--hostname option is not supported by stage1');
  if (wants.insecureOptions && !supportsInsecureOptions(v)) out.push('--insecure-options=capabilities,paths,seccomp are not supported by stage1');
  if (wants.dnsConfMode && !supportsDnsConfMode(v)) out.push('--dns and --hosts-entry options are not supported by stage1');
  return out;
}
