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
