// The one app entrypoint program of each flavor (stage1-<flavor>/entrypoints/app.ts) is called by the
// app-add|app-rm|app-start|app-stop|app-stats|app-update wrappers with the verb first: `app.js <verb> <contract argv>`.
import { RktError } from '../../common/errors.js';
import { parseAppArgs, parseStatsArgs, parseUpdateArgs, type AppEntrypoint } from '../../common/stage1-contract.js';
import { appAdd, appRm, appStart, appStop, appUpdate } from './commands.js';
import type { AppFlavor } from './flavor.js';
import { podStats } from './stats.js';

export const APP_VERBS = ['add', 'rm', 'start', 'stop', 'stats', 'update'] as const;
export type AppVerb = (typeof APP_VERBS)[number];

export function parseAppVerb(v: string | undefined): AppVerb {
  const verb = APP_VERBS.find((x) => x === v);
  if (verb === undefined) {
    throw new RktError('USAGE', `stage1 app: expected one of ${APP_VERBS.join(', ')} first, got "${v ?? ''}"`, {
      hint: 'call it through the app-* wrappers',
    });
  }
  return verb;
}

/** The entrypoint name errors carry ("stage1 app-add: ..."), from the raw argv. */
export function appEntrypointName(argv: readonly string[]): string {
  const verb = APP_VERBS.find((x) => x === argv[0]);
  return verb === undefined ? 'app' : `app-${verb}`;
}

export async function runAppVerb<S>(flavor: AppFlavor<S>, argv: readonly string[], podDir = process.cwd()): Promise<number> {
  const verb = parseAppVerb(argv[0]);
  if (verb === 'stats') {
    const a = parseStatsArgs(argv.slice(1));
    process.stdout.write(`${JSON.stringify(await podStats(flavor, a.uuid, a.debug, podDir))}\n`);
    return 0;
  }
  if (verb === 'update') {
    await appUpdate(flavor, parseUpdateArgs(argv.slice(1)), podDir);
    return 0;
  }
  const ep: AppEntrypoint = `app-${verb}`;
  const args = parseAppArgs(argv.slice(1), ep);
  const run = { add: appAdd, rm: appRm, start: appStart, stop: appStop }[verb];
  await run(flavor, args, podDir);
  return 0;
}
