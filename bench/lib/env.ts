// Paths and knobs shared by benchmark suites.
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/bench/lib -> repository root */
export const repoRoot = path.resolve(here, '../../..');
export const rktBin = path.join(repoRoot, 'dist', 'bin', 'rkt.js');
export const resultsDir = path.join(repoRoot, 'bench', 'results');

/** BENCH_QUICK=1 shrinks sizes and runs (for CI smoke runs); figures are then marked quick. */
export const quick = process.env['BENCH_QUICK'] === '1';
export const runs = Number(process.env['BENCH_RUNS'] ?? (quick ? 3 : 5));

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rkt-bench-${prefix}-`));
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}
