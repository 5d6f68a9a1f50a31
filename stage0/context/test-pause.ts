// Test-only hook: with RKT_TEST_PAUSE_AT=<phase> and RKT_TEST_PAUSE_MARKER=<file>, rkt stops at that named
// point of a command, writes its pid to the marker file and goes on once the file is removed. Functional
// tests use it to hold a command in a race window (a prepare holding the prepare lock, an image gc
// holding it) while they run another command. Unset, it costs one environment lookup and does nothing.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, RktError } from '../../common/errors.js';
import type { Output } from './output.js';

/** The named points (documented in docs/commands/image.md). */
export const TEST_PAUSE_PHASES = [
  /** prepare/run: every image (apps and stage1) resolved, shared prepare lock held, nothing recorded in the pod dir yet. */
  'prepare-images-resolved',
  /** image gc: exclusive prepare lock held, nothing decided or removed yet. */
  'image-gc-locked',
] as const;
export type TestPausePhase = (typeof TEST_PAUSE_PHASES)[number];

const POLL_MS = 20;

async function markerPresent(marker: string): Promise<boolean> {
  try {
    await readFile(marker);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

export async function pauseForTest(phase: TestPausePhase, output: Output, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env['RKT_TEST_PAUSE_AT'] !== phase) return;
  const marker = env['RKT_TEST_PAUSE_MARKER'];
  if (marker === undefined || marker === '') {
    throw new RktError('USAGE', `RKT_TEST_PAUSE_AT=${phase} is set without RKT_TEST_PAUSE_MARKER`, {
      hint: 'unset RKT_TEST_PAUSE_AT (it is for tests only) or name a marker file in RKT_TEST_PAUSE_MARKER',
    });
  }
  // Whole or absent: a test polling for the marker never reads half a pid.
  await writeFile(`${marker}.tmp`, `${process.pid}\n`);
  await rename(`${marker}.tmp`, marker);
  output.debug(`paused at ${phase} (RKT_TEST_PAUSE_AT, a test hook): remove ${marker} to go on`);
  while (await markerPresent(marker)) await sleep(POLL_MS);
  output.debug(`resumed after ${phase}`);
}
