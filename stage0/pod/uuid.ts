// Pod UUIDs: generation (v4), unique case-insensitive prefix resolution over all pod dirs, --uuid-file.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { RktError, describeCause, errnoCode } from '../../common/errors.js';
import { POD_STATE_DIRS, podStateDir } from '../../common/pod-layout.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function newPodUuid(): string {
  return crypto.randomUUID();
}

export function isPodUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** Every pod UUID present in any state dir (a pod seen twice mid-rename is listed once). */
export async function listPodUuids(dataDir: string): Promise<string[]> {
  const seen = new Set<string>();
  for (const state of POD_STATE_DIRS) {
    let names: string[];
    try {
      names = await fs.readdir(podStateDir(dataDir, state));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw new RktError('POD_INVALID', `cannot read pods directory ${podStateDir(dataDir, state)}: ${errnoCode(err) ?? String(err)}`, { cause: err });
    }
    for (const n of names) if (isPodUuid(n)) seen.add(n);
  }
  return [...seen];
}

/** Resolves a full UUID or a unique prefix of one (case-insensitive, dashes optional as typed). */
export async function resolvePodUuid(dataDir: string, input: string): Promise<string> {
  const want = input.trim().toLowerCase();
  if (want === '') {
    throw new RktError('USAGE', 'empty pod uuid', { hint: 'pass a UUID or a unique prefix of one (see "rkt list")' });
  }
  if (!/^[0-9a-f-]+$/.test(want)) {
    throw new RktError('POD_NOT_FOUND', `invalid pod uuid "${input}"`, { hint: 'a pod uuid is hexadecimal digits and dashes (see "rkt list")' });
  }
  const all = await listPodUuids(dataDir);
  if (isPodUuid(want)) {
    if (all.includes(want)) return want;
    throw new RktError('POD_NOT_FOUND', `no pod with uuid ${want}`, { hint: 'see "rkt list"' });
  }
  const matches = all.filter((u) => u.startsWith(want));
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length === 0) throw new RktError('POD_NOT_FOUND', `no pod matches uuid prefix "${input}"`, { hint: 'see "rkt list"' });
  throw new RktError('POD_AMBIGUOUS', `ambiguous uuid, ${matches.length} pods match "${input}"`, {
    hint: 'give more characters of the uuid',
  });
}

/** Reads a --uuid-file (trimmed). */
export async function readUuidFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new RktError('POD_NOT_FOUND', `cannot read uuid file ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  const uuid = text.trim();
  if (uuid === '') throw new RktError('POD_NOT_FOUND', `uuid file ${file} is empty`, { hint: 'the pod was not prepared; nothing to do' });
  return uuid;
}

/** Picks the pod argument: exactly one of a positional UUID (prefix) or --uuid-file. */
export async function podArgument(dataDir: string, positional: string | undefined, uuidFile: string | undefined): Promise<string> {
  if (positional !== undefined && uuidFile !== undefined) {
    throw new RktError('USAGE', 'give either a pod uuid or --uuid-file, not both');
  }
  if (uuidFile !== undefined) return resolvePodUuid(dataDir, await readUuidFile(uuidFile));
  if (positional === undefined) throw new RktError('USAGE', 'a pod uuid is required', { hint: 'pass a UUID (prefix) or --uuid-file=FILE' });
  return resolvePodUuid(dataDir, positional);
}

/**
 * Runs `each` for every pod named by `positional` and `--uuid-file` (rkt's stop and rm): returns the
 * exit code. With one pod its error is thrown as is; with several, each failure is a warning and the
 * rest still run.
 */
export async function forEachPodArgument(
  ctx: { globals: { dir: string }; output: { warn(line: string): void } },
  positional: readonly string[],
  uuidFile: string | undefined,
  each: (uuid: string) => Promise<void>,
): Promise<number> {
  const inputs = [...positional];
  if (uuidFile !== undefined) inputs.push(await readUuidFile(uuidFile));
  if (inputs.length === 0) throw new RktError('USAGE', 'at least one pod uuid is required', { hint: 'pass UUIDs or --uuid-file=FILE' });
  let failed = 0;
  for (const input of inputs) {
    try {
      await each(await resolvePodUuid(ctx.globals.dir, input));
    } catch (err) {
      failed++;
      if (inputs.length === 1) throw err;
      ctx.output.warn(describeCause(err));
    }
  }
  return failed > 0 ? 254 : 0;
}
