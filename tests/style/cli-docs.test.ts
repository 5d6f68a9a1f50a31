// Keeps three lists of every command's flags in step: what the parsers accept (commander options, and the
// pod grammar's table for run, prepare, run-prepared, app sandbox and app add), what `rkt <cmd> --help`
// prints, and the flags tables of docs/commands/*.md. A new flag needs all three; a removed one leaves none.
//
// Docs mapping: `rkt NAME [SUB]` is documented in docs/commands/NAME.md (so `image *` in image.md, `app *` in
// app.md), the global flags in docs/commands/global-flags.md. In its page, a command's section starts at a
// heading that is exactly `rkt NAME [SUB]` and runs to the next such heading; its flags are the backticked
// `--flag`s in the first column of the section's tables whose first header cell is "flag".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { podGrammarOf } from '../../stage0/cli/commands/pod-args-command.js';
import { flagsFor } from '../../stage0/cli/pod-flags.js';
import { loadCommandTree } from '../../stage0/cli/command-tree.js';

/** The build output this file was compiled into: its bin/rkt.js is the rkt under test. */
const outRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rktJs = path.join(outRoot, 'bin', 'rkt.js');

/** The checkout: above the build output for the usual dist/, else the directory the tests run from. */
function repoRoot(): string {
  for (const dir of [path.dirname(outRoot), process.cwd()]) {
    if (fs.existsSync(path.join(dir, 'docs', 'commands'))) return dir;
  }
  throw new Error(`no docs/commands next to ${outRoot} or in ${process.cwd()}: run the test from the checkout`);
}

interface CommandFlags {
  /** The words after `rkt`: [] for the root, ['image', 'list'] for `rkt image list`. */
  names: string[];
  /** Accepted long flag -> its help text. */
  flags: Map<string, string>;
  help: string;
}

const spoken = (names: readonly string[]): string => ['rkt', ...names].join(' ');

async function acceptedFlags(): Promise<CommandFlags[]> {
  const program = await loadCommandTree();
  const out: CommandFlags[] = [];
  const walk = (cmd: Command, names: string[]): void => {
    const flags = new Map<string, string>();
    const grammar = podGrammarOf(cmd);
    if (grammar) for (const [flag, spec] of flagsFor(grammar)) flags.set(flag, spec.helpFor?.[grammar] ?? spec.help);
    for (const o of cmd.options) if (o.long !== undefined && o.long !== '--help') flags.set(o.long, o.description);
    out.push({ names, flags, help: helpText(cmd) });
    for (const sub of cmd.commands) if (sub.name() !== 'help') walk(sub, [...names, sub.name()]);
  };
  walk(program, []);
  return out;
}

/** The help `rkt NAMES --help` prints, with the text added after it (the pod flags), captured in-process. */
function helpText(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => { text += s; }, writeErr: (s) => { text += s; } });
  cmd.outputHelp();
  return text;
}

function runHelp(names: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [rktJs, ...names, '--help'], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Flags at the start of a help line (`  --app <name>`, `  -f, --follow`, `  --net[=...]`), not those in descriptions. */
function helpFlags(text: string): Set<string> {
  return new Set([...text.matchAll(/^ {2}(?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1] ?? ''));
}

function docPage(names: readonly string[]): string {
  return names.length === 0 ? 'global-flags.md' : `${names[0]}.md`;
}

const COMMAND_HEADING = /^#{1,6} rkt((?: [a-z][a-z0-9-]*)*)\s*$/;

/** Command path ("" for the root, "image list") -> the flags its section's flag tables name. */
function documentedFlags(markdown: string): Map<string, Set<string>> {
  const sections = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  let inFlagTable = false;
  for (const line of markdown.split('\n')) {
    const heading = COMMAND_HEADING.exec(line);
    if (heading) {
      current = new Set();
      sections.set((heading[1] ?? '').trim(), current);
      inFlagTable = false;
      continue;
    }
    if (!line.startsWith('|')) {
      inFlagTable = false;
      continue;
    }
    const first = line.slice(1).split(/(?<!\\)\|/)[0]?.trim() ?? '';
    if (!inFlagTable) {
      // a table's header row: is this a flags table?
      inFlagTable = first.toLowerCase() === 'flag';
      continue;
    }
    for (const code of first.matchAll(/`([^`]*)`/g)) {
      for (const f of (code[1] ?? '').matchAll(/(?:^|[\s,/])(--[a-z][a-z0-9-]*)/g)) current?.add(f[1] ?? '');
    }
  }
  return sections;
}

test('every flag the parsers accept has a description, shows in --help and is in docs/commands; docs name no other flag', async () => {
  const commands = await acceptedFlags();
  const docsDir = path.join(repoRoot(), 'docs', 'commands');
  const problems: string[] = [];
  const pages = new Map<string, Map<string, Set<string>> | undefined>();
  for (const c of commands) {
    const who = spoken(c.names);
    for (const [flag, text] of c.flags) if (text.trim() === '') problems.push(`${who}: ${flag} has no description`);

    const shown = helpFlags(c.help);
    for (const flag of c.flags.keys()) if (!shown.has(flag)) problems.push(`${who}: ${flag} is accepted but missing from ${who} --help`);

    const page = docPage(c.names);
    if (!pages.has(page)) {
      const file = path.join(docsDir, page);
      pages.set(page, fs.existsSync(file) ? documentedFlags(fs.readFileSync(file, 'utf8')) : undefined);
    }
    const sections = pages.get(page);
    if (sections === undefined) {
      problems.push(`${who}: no docs page docs/commands/${page}`);
      continue;
    }
    const documented = sections.get(c.names.join(' '));
    if (documented === undefined) {
      problems.push(`${who}: docs/commands/${page} has no heading "${who}"`);
      continue;
    }
    for (const flag of c.flags.keys()) if (!documented.has(flag)) problems.push(`${who}: ${flag} is accepted but missing from docs/commands/${page}`);
    for (const flag of documented) if (!c.flags.has(flag)) problems.push(`${who}: ${flag} is documented in docs/commands/${page} but not accepted`);
  }

  // Sections for commands that do not exist (a removed command, a typo in a heading).
  const known = new Set(commands.map((c) => c.names.join(' ')));
  for (const page of fs.readdirSync(docsDir).filter((f) => f.endsWith('.md'))) {
    for (const name of documentedFlags(fs.readFileSync(path.join(docsDir, page), 'utf8')).keys()) {
      if (!known.has(name)) problems.push(`docs/commands/${page}: documents ${spoken(name === '' ? [] : name.split(' '))}, which is not a command`);
      else if (docPage(name === '' ? [] : name.split(' ')) !== page) problems.push(`docs/commands/${page}: documents ${spoken(name.split(' '))}, whose page is ${docPage(name.split(' '))}`);
    }
  }
  if (problems.length > 0) assert.fail(`CLI flags, --help and docs/commands disagree:\n${problems.join('\n')}`);
});

test('every command\'s --help, run as the user runs it, exits 0 and lists the flags the in-process help does', async () => {
  // The real binary registers only the command named in argv (commands/index.ts): each one's help must
  // still come out whole, so every command is run, two at a time for the small CI machine.
  const commands = await acceptedFlags();
  const queue = [...commands];
  const problems: string[] = [];
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      const r = await runHelp(c.names);
      if (r.code !== 0) problems.push(`${spoken(c.names)} --help exited ${r.code}: ${r.stderr}`);
      else if ([...helpFlags(r.stdout)].sort().join(' ') !== [...helpFlags(c.help)].sort().join(' ')) {
        problems.push(`${spoken(c.names)} --help lists [${[...helpFlags(r.stdout)].sort().join(' ')}], the in-process help [${[...helpFlags(c.help)].sort().join(' ')}]`);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  assert.ok(commands.length > 30, 'the tree holds every command');
  assert.deepEqual(problems, []);
});
