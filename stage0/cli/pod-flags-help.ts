// The "App flags" / "Pod flags" sections of --help for the commands commander cannot parse (run, prepare,
// run-prepared, app sandbox, app add), rendered from the same table app-args.ts parses with.
import type { PodCommand } from '../pod/pod-args.js';
import { flagsFor, type FlagSpec } from './pod-flags.js';

/** Terms longer than this get their description on the next line, so one long value form cannot push every line right. */
const MAX_TERM = 36;

/** `--net[=NAME[,NAME...]]`, `--readonly-rootfs[=true|false]`, `--exec=PATH`. */
export function flagTerm(flag: string, spec: FlagSpec): string {
  if (spec.kind === 'bool') return `${flag}[=true|false]`;
  if (spec.kind === 'optional') return `${flag}[=${spec.value ?? 'VALUE'}]`;
  return `${flag}=${spec.value ?? 'VALUE'}`;
}

function describe(command: PodCommand, spec: FlagSpec): string {
  const text = spec.helpFor?.[command] ?? spec.help;
  return spec.default === undefined || spec.helpFor?.[command] !== undefined ? text : `${text} (default: ${spec.default})`;
}

function section(title: string, rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.min(MAX_TERM, Math.max(...rows.map(([t]) => t.length)));
  const out = [`${title}:`];
  for (const [term, text] of rows) {
    if (term.length > width) out.push(`  ${term}`, `  ${' '.repeat(width)}  ${text}`);
    else out.push(`  ${term.padEnd(width)}  ${text}`);
  }
  return out;
}

/** A sandbox has no image for per-app flags to follow: its annotations and labels are the pod's. */
function isAppFlag(command: PodCommand, spec: FlagSpec): boolean {
  return spec.app === true && command !== 'app-sandbox';
}

/** The text commander prints after a pod command's usage and options. */
export function podFlagsHelp(command: PodCommand): string {
  const flags = flagsFor(command);
  const app = flags.filter(([, s]) => isAppFlag(command, s)).map(([f, s]) => [flagTerm(f, s), describe(command, s)] as const);
  const pod = flags.filter(([, s]) => !isAppFlag(command, s)).map(([f, s]) => [flagTerm(f, s), describe(command, s)] as const);
  const parts: string[][] = [];
  if (app.length > 0) {
    parts.push(section('App flags (each applies to the image before it)', [
      ...app,
      ['-- ARGS ---', "arguments for the image's exec (OCI: they replace its Cmd); one block per image"],
    ]));
  }
  if (pod.length > 0) parts.push(section(command === 'app-add' ? 'Fetch flags' : 'Pod flags', pod));
  return `\n${parts.map((p) => p.join('\n')).join('\n\n')}\n`;
}
