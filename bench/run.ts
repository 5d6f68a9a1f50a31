// `npm run bench`: runs every suite that can run here and writes bench/results/latest.{json,md} + charts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeReport, type Report } from './lib/report.js';
import { resultsDir } from './lib/env.js';
import type { Suite } from './lib/suite.js';
import type { BenchResult } from './lib/result.js';
import { SUITES } from './suites/index.js';

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !(n in SUITES));
  if (unknown.length > 0) {
    // a typo must not "pass" by measuring nothing and rewriting the report
    process.stderr.write(`bench: unknown suite(s) ${unknown.join(', ')}; the suites are: ${Object.keys(SUITES).join(', ')}\n`);
    return 2;
  }
  const results: BenchResult[] = [];
  const skipped: Report['skipped'] = [];
  let failed = 0;
  for (const [name, suite] of Object.entries(SUITES) as Array<[string, Suite]>) {
    if (only.length > 0 && !only.includes(name)) continue;
    const ok = await suite.available();
    if (ok !== true) {
      progress(`${name}: skipped (${ok})`);
      for (const n of suite.produces) skipped.push({ name: n, reason: ok });
      continue;
    }
    progress(`${name}: running`);
    try {
      const rs = await suite.run((l) => progress(`${name}: ${l}`));
      for (const r of rs) progress(`${r.name} = ${r.value} ${r.unit}${r.ratio !== null ? ` (ratio ${r.ratio} vs ${r.baseline})` : ''}`);
      results.push(...rs);
    } catch (err) {
      failed++;
      const msg = err instanceof Error ? err.message : String(err);
      progress(`${name}: FAILED: ${msg}`);
      for (const n of suite.produces) skipped.push({ name: n, reason: `failed: ${msg}` });
    }
  }
  // A run of some suites keeps the other figures of the last report, so `npm run bench -- <suite>`
  // refreshes one part without losing the rest.
  if (only.length > 0) {
    const fresh = new Set([...results.map((r) => r.name), ...skipped.map((s) => s.name)]);
    try {
      const prev = JSON.parse(fs.readFileSync(path.join(resultsDir, 'latest.json'), 'utf8')) as Report;
      for (const r of prev.results ?? []) if (!fresh.has(r.name)) results.push(r);
    } catch {
      // no earlier report
    }
  }
  const rep: Report = {
    generated: new Date().toISOString(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}`,
    results,
    skipped,
  };
  writeReport(resultsDir, rep);
  progress(`wrote ${resultsDir}/latest.json and latest.md (${results.length} results, ${skipped.length} not measured)`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
