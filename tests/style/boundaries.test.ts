// Tree rules that keep the architecture honest: stage1 code ships without node_modules, and only
// bin/ ends the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

test('code that runs inside stage1 images imports only node builtins and relative modules', () => {
  const offenders: string[] = [];
  for (const dir of ['common', 'stage1-shared', 'stage1-nspawn', 'stage1-kvm']) {
    for (const file of sources(path.join(root, dir))) {
      if (file.includes(`${path.sep}image-build${path.sep}`)) continue; // build-time only
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2] ?? '';
        if (!spec.startsWith('node:') && !spec.startsWith('.')) offenders.push(`${path.relative(root, file)}: ${spec}`);
      }
    }
  }
  assert.deepEqual(offenders, [], 'stage1 images carry no node_modules; use node builtins (stage1-shared/subprocess.ts)');
});

test('only bin/ calls process.exit', () => {
  const offenders: string[] = [];
  for (const dir of ['common', 'stage0', 'stage1-shared', 'stage1-nspawn', 'stage1-kvm']) {
    for (const file of sources(path.join(root, dir))) {
      const text = fs.readFileSync(file, 'utf8');
      if (/process\.exit\(/.test(text)) offenders.push(path.relative(root, file));
    }
  }
  assert.deepEqual(offenders, [], 'library code throws RktError; bin/rkt.ts owns the exit');
});

/** Every import specifier of a file, resolved to a path relative to the repo root (relative imports only). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? '';
    if (spec.startsWith('.')) out.push(path.relative(root, path.resolve(path.dirname(file), spec)));
  }
  return out;
}

const stage1Folders = (): string[] => fs.readdirSync(root).filter((d) => d.startsWith('stage1-') && fs.statSync(path.join(root, d)).isDirectory());

test('stage0 library code does not import the CLI (stage0/cli/ sits on top of it)', () => {
  const offenders: string[] = [];
  for (const file of sources(path.join(root, 'stage0'))) {
    if (file.startsWith(path.join(root, 'stage0', 'cli') + path.sep)) continue;
    for (const imp of importsOf(file)) if (imp.startsWith(`stage0${path.sep}cli${path.sep}`)) offenders.push(`${path.relative(root, file)}: ${imp}`);
  }
  assert.deepEqual(offenders, [], 'give what the library needs a home below stage0/cli/ (stage0/context/, stage0/pod/pod-args.ts)');
});

test('stage0 and the stage1s know each other only through common/ (the contract)', () => {
  const offenders: string[] = [];
  const s1 = stage1Folders();
  for (const file of sources(path.join(root, 'stage0'))) {
    for (const imp of importsOf(file)) if (s1.some((d) => imp.startsWith(d + path.sep))) offenders.push(`${path.relative(root, file)}: ${imp}`);
  }
  for (const d of s1) {
    for (const file of sources(path.join(root, d))) {
      for (const imp of importsOf(file)) if (imp.startsWith(`stage0${path.sep}`)) offenders.push(`${path.relative(root, file)}: ${imp}`);
    }
  }
  assert.deepEqual(offenders, [], 'stage0 reaches a stage1 through the pod dir and entrypoint argv (common/stage1-contract.ts) only');
});

test('a flavor is named in code only inside its own folder', () => {
  // stage0 names the built-in stage1 images for --stage1-image=nspawn|kvm: one list, in select.ts.
  const allowed = new Set([path.join('stage0', 'stage1', 'select.ts')]);
  const flavors = stage1Folders().map((d) => d.slice('stage1-'.length)).filter((f) => f !== 'shared');
  const offenders: string[] = [];
  for (const dir of ['common', 'stage0', 'bin', ...stage1Folders()]) {
    for (const file of sources(path.join(root, dir))) {
      const rel = path.relative(root, file);
      if (allowed.has(rel)) continue;
      const code = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
      for (const f of flavors) {
        if (rel.startsWith(`stage1-${f}${path.sep}`)) continue;
        if (new RegExp(`['"\`]${f}['"\`]`).test(code)) offenders.push(`${rel}: '${f}'`);
      }
    }
  }
  assert.deepEqual(offenders, [], 'what differs per flavor is that flavor\'s value in its folder (stage1-<flavor>/flavor/)');
});
