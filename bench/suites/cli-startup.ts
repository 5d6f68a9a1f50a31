// version-cold-s: a fresh `rkt version` process, against a bare `node -e 0` in the same run.
import { makeResult } from '../lib/result.js';
import { timeCommand } from '../lib/measure.js';
import { rktBin, runs } from '../lib/env.js';
import type { Suite } from '../lib/suite.js';

export const cliStartup: Suite = {
  produces: ['version-cold-s'],
  async available() {
    return true;
  },
  async run() {
    const opts = { runs: Math.max(runs, 10), warmup: 2 };
    const ours = await timeCommand('node', [rktBin, 'version'], opts);
    const base = await timeCommand('node', ['-e', '0'], opts);
    return [
      makeResult({
        name: 'version-cold-s',
        unit: 's',
        ours,
        baselineName: 'node -e 0',
        baseline: base,
        command: `node ${rktBin} version`,
        notes: 'A new process each run (page cache warm); the baseline is Node starting and exiting.',
      }),
    ];
  },
};
