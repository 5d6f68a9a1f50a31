// Loads the CRI runtime.v1 API (runtime-v1.proto, next to this module) into gRPC service
// definitions for @grpc/grpc-js.
//
// How messages look on the JavaScript side (proto-loader options below):
// - field names are the proto's own snake_case names (keepCase);
// - int64/uint64 fields arrive as decimal strings: nanosecond timestamps (~1.8e18) are past
//   2^53, so numbers would lose precision. When sending, a string or a (safe) number is accepted;
// - enums arrive as their names ('SANDBOX_READY'); names or numbers are accepted when sending;
// - unset scalars arrive as their defaults ('' / 0 / false / [] / {}), unset messages as null;
// - bytes arrive as Buffers.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_FILE = 'runtime-v1.proto';

/** The proto-loader options every CRI caller shares (see the header comment). */
export const CRI_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * The .proto file: next to the compiled module (the build copies it to dist/stage0/cri/proto/),
 * else in the source tree (dist/stage0/cri/proto -> repo root -> stage0/cri/proto).
 */
export function criProtoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, PROTO_FILE);
  if (existsSync(beside)) return beside;
  return join(here, '..', '..', '..', '..', 'stage0', 'cri', 'proto', PROTO_FILE);
}

export interface CriPackage {
  runtime: grpc.ServiceDefinition;
  image: grpc.ServiceDefinition;
}

let cached: CriPackage | undefined;

function serviceAt(pkg: grpc.GrpcObject, name: string): grpc.ServiceDefinition {
  const entry = pkg[name];
  if (entry === undefined || typeof entry !== 'function' || !('service' in entry)) {
    throw new Error(`${criProtoPath()}: no service runtime.v1.${name}`);
  }
  return (entry as grpc.ServiceClientConstructor).service;
}

/** runtime.v1.RuntimeService and runtime.v1.ImageService, loaded once per process. */
export function loadCriPackage(): CriPackage {
  if (cached !== undefined) return cached;
  const definition = protoLoader.loadSync(criProtoPath(), CRI_LOADER_OPTIONS);
  const root = grpc.loadPackageDefinition(definition);
  const runtimeNs = root['runtime'] as grpc.GrpcObject | undefined;
  const v1 = runtimeNs?.['v1'] as grpc.GrpcObject | undefined;
  if (v1 === undefined) throw new Error(`${criProtoPath()}: no package runtime.v1`);
  cached = { runtime: serviceAt(v1, 'RuntimeService'), image: serviceAt(v1, 'ImageService') };
  return cached;
}

/** The rpc names of each service, in the order the .proto declares them. */
export function criMethodNames(): { runtime: string[]; image: string[] } {
  const { runtime, image } = loadCriPackage();
  return { runtime: Object.keys(runtime), image: Object.keys(image) };
}
