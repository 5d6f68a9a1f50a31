// `rkt image gc`: remove rendered trees and images no pod uses and not used within the grace period.
import type { Command } from 'commander';
import { RktError } from '../../../common/errors.js';
import { openStore } from '../../store/index.js';
import { collectImageGarbage } from '../../store/gc.js';
import { pauseForTest } from '../../context/test-pause.js';
import type { ActionBinder } from '../registry.js';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations: "24h", "1h30m", "90s", "0". */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (t === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    total += Number(m[1]) * (UNITS[m[2] as string] ?? 0);
    pos = re.lastIndex;
  }
  if (pos === 0 || pos !== t.length) {
    throw new RktError('USAGE', `invalid duration "${text}"`, { hint: 'expected e.g. 24h, 30m, 1h30m, 10s or 0' });
  }
  return total;
}

export function registerImageGc(image: Command, bind: ActionBinder): void {
  image
    .command('gc')
    .description('remove unused images and rendered trees from the local store')
    .option('--grace-period <duration>', 'keep images used within this duration', '24h')
    .action(
      bind('image gc', async (ctx, flags: { gracePeriod: string }) => {
        const grace = parseDuration(flags.gracePeriod);
        const store = await openStore(ctx.globals.dir);
        const r = await collectImageGarbage(store, {
          gracePeriodMs: grace,
          onWait: (line) => ctx.output.debug(line),
          whenLocked: () => pauseForTest('image-gc-locked', ctx.output),
        });
        for (const t of r.removedTrees) ctx.output.warn(`removed tree ${t}`);
        for (const id of r.removedImages) ctx.output.out(id);
        ctx.output.warn(`${r.removedImages.length} image(s), ${r.removedTrees.length} tree(s) and ${r.removedLayers.length} OCI layer(s) removed`);
        return 0;
      }),
    );
}
