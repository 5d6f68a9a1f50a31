// The bash completion script: it names every visible command and flag the parsers accept, and bash runs it
// to the completions a user would see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { podGrammarOf } from './commands/pod-args-command.js';
import { loadCommandTree } from './command-tree.js';
import { bashCompletionScript, completionTree } from './completion.js';
import { flagsFor } from './pod-flags.js';

const script = bashCompletionScript(completionTree(await loadCommandTree()));

/** The case line of `fn` for the command `names` (the words it offers after that command). */
function offered(fn: string, names: readonly string[]): string[] {
  const body = script.split(`${fn}() {\n`)[1]?.split('\n}\n')[0] ?? '';
  const line = body.split('\n').find((l) => l.startsWith(`    '${names.join(' ')}')`));
  return line === undefined ? [] : [...line.matchAll(/'([^']*)'/g)].slice(1).map((m) => m[1] ?? '');
}

test('the script offers every visible command, subcommand and flag the parsers accept, and no hidden command', async () => {
  const program = await loadCommandTree();
  const problems: string[] = [];
  const walk = (cmd: Command, names: string[]): void => {
    const flags = offered('__rkt_flags', names);
    const grammar = podGrammarOf(cmd);
    const accepted = [...cmd.options.map((o) => o.long), ...(grammar ? flagsFor(grammar).map(([f]) => f) : [])];
    for (const f of accepted) if (f !== undefined && !flags.includes(f)) problems.push(`rkt ${names.join(' ')}: ${f} not offered`);
    if (!flags.includes('--help')) problems.push(`rkt ${names.join(' ')}: --help not offered`);
    const subs = offered('__rkt_subcommands', names);
    for (const sub of cmd.commands) {
      const hidden = !sub.createHelp().visibleCommands(cmd).includes(sub);
      if (hidden === subs.includes(sub.name())) problems.push(`rkt ${[...names, sub.name()].join(' ')}: ${hidden ? 'hidden but offered' : 'not offered'}`);
      if (!hidden) walk(sub, [...names, sub.name()]);
    }
  };
  walk(program, []);
  assert.deepEqual(problems, []);
  assert.ok(offered('__rkt_subcommands', []).includes('completion'));
  assert.ok(!offered('__rkt_subcommands', ['image']).includes('import'), 'image import is hidden');
  assert.ok(offered('__rkt_value_flags', ['run']).includes('--stage1-image'));
  assert.ok(!offered('__rkt_value_flags', ['run']).includes('--net'), '--net takes its value after = only');
});

/** What `_rkt` puts in COMPREPLY for these words, the last one being the word under the cursor. */
function complete(file: string, words: readonly string[]): string[] {
  const q = (w: string): string => `'${w.replaceAll("'", "'\\''")}'`;
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', `source ${q(file)}; COMP_WORDS=(${words.map(q).join(' ')}); COMP_CWORD=${words.length - 1}; _rkt; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l !== '');
}

test('bash parses the script, registers _rkt for rkt and completes commands, subcommands and flags', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rkt-completion-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'rkt.bash');
  fs.writeFileSync(file, script);
  execFileSync('bash', ['-n', file]);
  assert.equal(execFileSync('bash', ['--norc', '-c', `source '${file}'; complete -p rkt`], { encoding: 'utf8' }).trim(), 'complete -o default -F _rkt rkt');

  assert.deepEqual(complete(file, ['rkt', 'ima']), ['image']);
  assert.deepEqual(complete(file, ['rkt', 'image', 'l']), ['list']);
  assert.deepEqual(complete(file, ['rkt', 'app', 'a']), ['add']);
  const runFlags = complete(file, ['rkt', 'run', '--']);
  for (const f of ['--net', '--memory', '--stage1-image', '--interactive', '--help']) assert.ok(runFlags.includes(f), `rkt run --<TAB> offers ${f}`);
  assert.ok(!runFlags.includes('--dir'), 'global flags go before the command');
  assert.deepEqual(complete(file, ['rkt', 'image', 'list', '--fo']), ['--format']);
  // per-app flags after an image, global flags with their value (also as bash splits --dir=X) before the command
  assert.deepEqual(complete(file, ['rkt', 'run', 'example.com/app', '--mem']), ['--memory']);
  assert.deepEqual(complete(file, ['rkt', '--dir', '/tmp/x', 'ima']), ['image']);
  assert.deepEqual(complete(file, ['rkt', '--dir', '=', '/tmp/x', '--debug', 'ima']), ['image']);
  assert.deepEqual(complete(file, ['rkt', '--de']), ['--debug']);
  assert.deepEqual(complete(file, ['rkt', 'help', 'ru']), ['run', 'run-prepared']);
  // a flag's value is left to bash's file name completion
  assert.deepEqual(complete(file, ['rkt', 'run', '--stage1-image', '']), []);
  assert.deepEqual(complete(file, ['rkt', 'run', '--net', '=', '']), []);
});
