// Which stage1 a pod gets: --stage1-image / --stage1-{name,path,url,hash,from-dir}, else stage1.d config,
// else the built-in nspawn flavor. Built-in images (next to the installed rkt) are trusted without a
// signature, as rkt did; everything else goes through fetchImage and its signature check.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errnoCode, RktError } from '../../common/errors.js';
import { loadConfig } from '../config/config.js';
import { fetchImage } from '../fetch/index.js';
import type { Store } from '../store/index.js';
import type { CommandContext } from '../context/context.js';
import type { Stage1Flags } from '../pod/pod-args.js';

export const BUILTIN_FLAVORS = ['nspawn', 'kvm'] as const;
export const DEFAULT_FLAVOR = 'nspawn';

export interface Stage1Choice {
  imageId: string;
  /** One line for --debug: what was chosen and why. */
  why: string;
}

/** `<dist>/stage1-images`: dist/stage0/stage1/select.js -> dist/stage1-images (the dir next to bin/). */
export function defaultStage1ImagesDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../stage1-images');
}

function stage1ImagesDir(ctx: CommandContext): string {
  const cfg = loadConfig(ctx.globals);
  return cfg.paths.stage1Images ?? defaultStage1ImagesDir();
}

export function builtinStage1Path(dir: string, flavor: string): string {
  return path.join(dir, `stage1-${flavor}.aci`);
}

/** Imports a stage1 ACI from the install location without a signature; reuses the last import of the same file. */
async function importTrusted(store: Store, file: string): Promise<string> {
  let st;
  try {
    st = await fs.stat(file);
  } catch (err) {
    throw new RktError('STAGE1', `stage1 image ${file} not found: ${errnoCode(err) ?? String(err)}`, {
      cause: err,
      hint: 'build the stage1 images with "bash scripts/build-stage1-images.sh", or pick another with --stage1-path/--stage1-name',
    });
  }
  const previous = (await store.listImages())
    .filter((i) => i.origin === `file://${file}` && i.importTime.getTime() >= st.mtimeMs)
    .sort((a, b) => b.importTime.getTime() - a.importTime.getTime())[0];
  if (previous) return previous.id;
  return store.importAci(file, { origin: `file://${file}`, signatureVerified: false });
}

async function fetchVerified(ctx: CommandContext, store: Store, image: string): Promise<string> {
  return fetchImage(ctx, store, image, { pullPolicy: 'new' });
}

function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

export async function selectStage1(ctx: CommandContext, store: Store, flags: Stage1Flags): Promise<Stage1Choice> {
  const dir = stage1ImagesDir(ctx);
  if (flags.image !== undefined) {
    const v = flags.image;
    if ((BUILTIN_FLAVORS as readonly string[]).includes(v)) {
      const file = builtinStage1Path(dir, v);
      return { imageId: await importTrusted(store, file), why: `--stage1-image=${v}: built-in flavor ${file} (trusted: install location)` };
    }
    if (isUrl(v)) return { imageId: await fetchVerified(ctx, store, v), why: `--stage1-image=${v}: fetched URL` };
    return { imageId: await fetchVerified(ctx, store, path.resolve(v)), why: `--stage1-image=${v}: local file ${path.resolve(v)}` };
  }
  if (flags.path !== undefined) {
    const file = path.resolve(flags.path);
    return { imageId: await fetchVerified(ctx, store, file), why: `--stage1-path: ${file}` };
  }
  if (flags.url !== undefined) {
    if (!isUrl(flags.url)) throw new RktError('USAGE', `invalid --stage1-url "${flags.url}": expected a URL (file://, http://, https://)`);
    return { imageId: await fetchVerified(ctx, store, flags.url), why: `--stage1-url: ${flags.url}` };
  }
  if (flags.name !== undefined) {
    return { imageId: await fetchImage(ctx, store, flags.name, { pullPolicy: 'new' }), why: `--stage1-name: ${flags.name}` };
  }
  if (flags.hash !== undefined) {
    return { imageId: await store.resolveImageId(flags.hash.toLowerCase()), why: `--stage1-hash: ${flags.hash} (store only)` };
  }
  if (flags.fromDir !== undefined) {
    if (flags.fromDir.includes('/')) throw new RktError('USAGE', `invalid --stage1-from-dir "${flags.fromDir}": expected a file name in ${dir}`);
    const file = path.join(dir, flags.fromDir);
    return { imageId: await importTrusted(store, file), why: `--stage1-from-dir: ${file} (trusted: stage1 images dir)` };
  }
  return fromConfigOrDefault(ctx, store, dir);
}

async function fromConfigOrDefault(ctx: CommandContext, store: Store, dir: string): Promise<Stage1Choice> {
  const cfg = loadConfig(ctx.globals).stage1;
  if (cfg.name !== undefined) {
    const labels: Record<string, string> = cfg.version !== undefined ? { version: cfg.version } : {};
    const found = await store.findImageByName(cfg.name, labels);
    if (found) return { imageId: found.id, why: `stage1.d config: ${cfg.name}${cfg.version ? ':' + cfg.version : ''} found in the store` };
  }
  if (cfg.location !== undefined) {
    const loc = cfg.location;
    if (isUrl(loc) && !loc.startsWith('file://')) {
      return { imageId: await fetchVerified(ctx, store, loc), why: `stage1.d config location ${loc}` };
    }
    // A local path in the admin's configuration is trusted like the install location.
    const file = loc.startsWith('file://') ? loc.slice('file://'.length) : loc;
    return { imageId: await importTrusted(store, file), why: `stage1.d config location ${file} (trusted: configured by the administrator)` };
  }
  if (cfg.name !== undefined) {
    const ref = cfg.version !== undefined ? `${cfg.name}:${cfg.version}` : cfg.name;
    return { imageId: await fetchImage(ctx, store, ref, { pullPolicy: 'new' }), why: `stage1.d config: ${ref} (discovered)` };
  }
  const file = builtinStage1Path(dir, DEFAULT_FLAVOR);
  return { imageId: await importTrusted(store, file), why: `no stage1 flags or configuration: default flavor ${DEFAULT_FLAVOR} from ${file}` };
}
