// systemd syntax: unit names for apps, quoting of words in unit files and `systemd-run -p`, unit-file
// rendering, and the EnvironmentFile format shared by app units and enter.
import { RktError } from '../../common/errors.js';

/** Unit names are prefixed so an app called e.g. "dbus" cannot collide with the stage1's own units. */
export const APP_UNIT_PREFIX = 'app-';

export function appServiceName(app: string): string {
  return `${APP_UNIT_PREFIX}${app}.service`;
}

/** systemd-escape for one name component ("-" would otherwise mean a slice hierarchy). */
export function escapeUnitComponent(s: string): string {
  let out = '';
  for (const [i, ch] of [...s].entries()) {
    if (/[A-Za-z0-9:_]/.test(ch) || (ch === '.' && i > 0)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Each app gets its own slice so processes entered into it share the app's cgroup subtree and limits. */
export function appSliceName(app: string): string {
  return `${APP_UNIT_PREFIX}${escapeUnitComponent(app)}.slice`;
}

/**
 * Quotes one word for systemd's word splitting (ExecStart=, BindPaths=, ...): double quotes with C escapes.
 * `%` and `$` are escaped separately where specifiers/variables apply (renderUnit, execLine).
 */
export function quoteWord(s: string): string {
  if (s.includes('\0')) throw new RktError('MANIFEST_INVALID', 'a NUL byte cannot be passed to systemd');
  const esc = s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? esc : `"${esc}"`;
}

/** A command line for ExecStart= and friends: quoted words, `$` not expanded. */
export function execLine(argv: readonly string[]): string {
  return argv.map((a) => quoteWord(a).replace(/\$/g, '$$$$')).join(' ');
}

export type UnitProperty = readonly [key: string, value: string];

export interface UnitSections {
  Unit?: readonly UnitProperty[];
  Service?: readonly UnitProperty[];
  Slice?: readonly UnitProperty[];
  Socket?: readonly UnitProperty[];
  Install?: readonly UnitProperty[];
}

/**
 * Resource-control settings systemd parses without specifier expansion: their `%` is a percentage and must
 * stay single (doubled, `CPUQuota=50%%` is a parse error systemd only logs, and the quota silently goes).
 */
const LITERAL_PERCENT = new Set(['CPUQuota', 'MemoryMax', 'MemoryHigh', 'MemoryLow', 'MemoryMin', 'MemorySwapMax', 'TasksMax', 'CPUWeight', 'CPUShares']);

/**
 * Renders a unit file; `%` is doubled so values never trigger specifier expansion, except in the
 * properties named in `specifiers` (templates that mean to use %i) and the LITERAL_PERCENT settings.
 */
export function renderUnit(header: string, sections: UnitSections, specifiers: readonly string[] = []): string {
  const lines: string[] = [`# ${header.replace(/%/g, '%%')}`];
  for (const [name, props] of Object.entries(sections) as [string, readonly UnitProperty[] | undefined][]) {
    if (!props || props.length === 0) continue;
    lines.push('', `[${name}]`);
    for (const [k, v] of props) {
      if (/[\n\r]/.test(v)) throw new RktError('INTERNAL', `unit property ${k} contains a newline`);
      lines.push(`${k}=${specifiers.includes(k) || LITERAL_PERCENT.has(k) ? v : v.replace(/%/g, '%%')}`);
    }
  }
  return lines.join('\n') + '\n';
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** EnvironmentFile= content: `NAME="value"` entries with systemd's double-quote escapes (newlines stay literal). */
export function renderEnvFile(env: ReadonlyArray<{ name: string; value: string }>): string {
  return env
    .map(({ name, value }) => {
      if (!ENV_NAME.test(name)) throw new RktError('MANIFEST_INVALID', `invalid environment variable name "${name}"`);
      return `${name}="${value.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
    })
    .join('\n') + (env.length > 0 ? '\n' : '');
}

/** Reads what renderEnvFile wrote (for enter and tests). */
export function parseEnvFile(text: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const re = /^([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\[\s\S])*)"$/gm;
  for (const m of text.matchAll(re)) {
    out.push({ name: m[1] as string, value: (m[2] as string).replace(/\\([\s\S])/g, '$1') });
  }
  return out;
}
