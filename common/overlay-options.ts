// overlayfs mount options, for every place that mounts an overlay (stage0's pod trees and flattening,
// the nspawn stage1's ID-mapped layers): how paths are escaped in them, and how many lower dirs fit in
// one mount(2) call (the legacy call copies one page of options; overlayfs stops at 500 lowers).

/** The bytes of mount options one legacy mount(2) call takes (one 4 KiB page, less the NUL). */
export const MOUNT_OPTIONS_MAX = 4095;
/** overlayfs's limit on lower layers (OVL_MAX_STACK). */
export const OVERLAY_MAX_LOWER = 500;

/** A path as it must appear in a lowerdir list: the kernel splits on ':' and ',' unless escaped. */
export function escapeOverlayPath(p: string): string {
  return p.replace(/[\\:,]/g, (c) => `\\${c}`);
}

/** "lowerdir=a:b:c" for the given layers, upper first. */
export function lowerdirOption(lowerDirs: readonly string[]): string {
  return `lowerdir=${lowerDirs.map(escapeOverlayPath).join(':')}`;
}

/**
 * How many of `lowerDirs` (upper first), taken from the start, fit in one overlay mount whose other
 * options (upperdir=...,workdir=..., and the commas joining them) take `reservedBytes`; a stack that
 * does not fit must be mounted partly flattened.
 */
export function maxLowerDirsPerMount(lowerDirs: readonly string[], reservedBytes = 0, optionsMax = MOUNT_OPTIONS_MAX): number {
  let used = reservedBytes + Buffer.byteLength('lowerdir=');
  let n = 0;
  for (const p of lowerDirs) {
    const add = Buffer.byteLength(escapeOverlayPath(p)) + (n > 0 ? 1 : 0);
    if (used + add > optionsMax || n >= OVERLAY_MAX_LOWER) break;
    used += add;
    n++;
  }
  return n;
}
