// Finding a .proto at run time, the proto-loader options our services share, and a service in what
// proto-loader made of a file. The build copies each .proto next to its compiled loader; run from a tree
// without that copy, the source's is used.
//
// How messages look on the JavaScript side (PROTO_LOADER_OPTIONS):
// - field names are the proto's own snake_case names (keepCase);
// - int64/uint64 fields arrive as decimal strings: nanosecond timestamps (~1.8e18) are past
//   2^53, so numbers would lose precision. When sending, a string or a (safe) number is accepted;
// - enums arrive as their names ('SANDBOX_READY'); names or numbers are accepted when sending;
// - unset scalars arrive as their defaults ('' / 0 / false / [] / {}), unset messages as null;
// - bytes arrive as Buffers.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GrpcObject, ServiceClientConstructor, ServiceDefinition } from '@grpc/grpc-js';
import type { Options } from '@grpc/proto-loader';

export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * `file` beside the module at `moduleUrl`, else in `sourceDir` (relative to the checkout) of the checkout the
 * build output sits in: dist/<sourceDir>/ is as deep below the checkout as <sourceDir>/ plus one.
 */
export function protoFileOf(moduleUrl: string, sourceDir: string, file: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const beside = join(here, file);
  if (existsSync(beside)) return beside;
  const up = sourceDir.split('/').map(() => '..');
  return join(here, ...up, '..', sourceDir, file);
}

/** The service `name` in the package at `pkgPath` (['runtime', 'v1']) of a loaded proto. */
export function serviceIn(root: GrpcObject, pkgPath: readonly string[], name: string, protoFile: string): ServiceDefinition {
  let pkg: GrpcObject | undefined = root;
  for (const part of pkgPath) pkg = pkg?.[part] as GrpcObject | undefined;
  if (pkg === undefined) throw new Error(`${protoFile}: no package ${pkgPath.join('.')}`);
  const entry = pkg[name];
  if (entry === undefined || typeof entry !== 'function' || !('service' in entry)) {
    throw new Error(`${protoFile}: no service ${pkgPath.join('.')}.${name}`);
  }
  return (entry as ServiceClientConstructor).service;
}
