// Typed access to the small native addon (native/): flock, FD_CLOEXEC, execve, mknod and the l*xattr calls,
// which Node lacks.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import { RktError } from './errors.js';

interface NativeBinding {
  flock(fd: number, op: number): boolean;
  setCloexec(fd: number, on: boolean): void;
  execve(file: string, argv: string[], envp: string[]): never;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer, flags: number): void;
  lgetxattr(path: string, name: string): Buffer | null;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

let binding: NativeBinding | undefined;

function findAddon(): string {
  // dist/common/native.js -> <root>/native/build/Release/rkt_native.node; RKT_NATIVE_ADDON overrides
  // for trees (such as a stage1 rootfs) that carry the addon elsewhere.
  const override = process.env['RKT_NATIVE_ADDON'];
  if (override) return override;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '../../native/build/Release/rkt_native.node'),
    path.resolve(here, '../native/rkt_native.node'),
    path.resolve(here, '../../native/rkt_native.node'),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new RktError('INTERNAL', 'native addon rkt_native.node not found', {
    hint: 'run "npm run build" to compile native/',
  });
}

function load(): NativeBinding {
  if (!binding) {
    const require = createRequire(import.meta.url);
    binding = require(findAddon()) as NativeBinding;
  }
  return binding;
}

/** Take a lock; returns false only when LOCK_NB was given and the lock is held elsewhere. */
export function flock(fd: number, op: number): boolean {
  return load().flock(fd, op);
}

export function setCloexec(fd: number, on: boolean): void {
  load().setCloexec(fd, on);
}

/**
 * Replace this process. fds 0-2 are inherited as blocking, non-close-on-exec descriptors and
 * SIGPIPE/SIGXFSZ are back to default (the addon undoes what Node set). Returns only by throwing.
 */
export function execve(file: string, argv: string[], env: NodeJS.ProcessEnv): never {
  const envp = Object.entries(env)
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([k, v]) => `${k}=${v}`);
  return load().execve(file, argv, envp);
}

/** File-type bits for mknod's mode (sys/stat.h). */
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** lsetxattr flags (sys/xattr.h): fail if the attribute exists / does not exist. */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

/**
 * mknod(2). `mode` includes the type bits (S_IFCHR, S_IFIFO); the umask applies as usual. Errors carry
 * a Node-style `code` such as 'EEXIST'.
 */
export function mknod(file: string, mode: number, major = 0, minor = 0): void {
  load().mknod(file, mode, major, minor);
}

/** lsetxattr(2): sets an extended attribute on the path itself, never on a symlink's target. */
export function lsetxattr(file: string, name: string, value: Buffer, flags = 0): void {
  load().lsetxattr(file, name, value, flags);
}

/** lgetxattr(2): the attribute's value, or null when the path has no such attribute. */
export function lgetxattr(file: string, name: string): Buffer | null {
  return load().lgetxattr(file, name);
}
