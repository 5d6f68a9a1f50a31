// Loads the CRI runtime.v1 API (runtime-v1.proto, next to this module) into gRPC service
// definitions for @grpc/grpc-js; stage0/grpc/proto.ts says how its messages look in JavaScript.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, protoFileOf, serviceIn } from '../../grpc/proto.js';

const PROTO_FILE = 'runtime-v1.proto';

/** The proto-loader options every CRI caller shares. */
export const CRI_LOADER_OPTIONS: protoLoader.Options = PROTO_LOADER_OPTIONS;

/** The .proto file: next to the compiled module (the build copies it to dist/stage0/cri/proto/), else in the source tree. */
export function criProtoPath(): string {
  return protoFileOf(import.meta.url, 'stage0/cri/proto', PROTO_FILE);
}

export interface CriPackage {
  runtime: grpc.ServiceDefinition;
  image: grpc.ServiceDefinition;
}

let cached: CriPackage | undefined;

/** runtime.v1.RuntimeService and runtime.v1.ImageService, loaded once per process. */
export function loadCriPackage(): CriPackage {
  if (cached !== undefined) return cached;
  const file = criProtoPath();
  const root = grpc.loadPackageDefinition(protoLoader.loadSync(file, CRI_LOADER_OPTIONS));
  cached = { runtime: serviceIn(root, ['runtime', 'v1'], 'RuntimeService', file), image: serviceIn(root, ['runtime', 'v1'], 'ImageService', file) };
  return cached;
}

/** The rpc names of each service, in the order the .proto declares them. */
export function criMethodNames(): { runtime: string[]; image: string[] } {
  const { runtime, image } = loadCriPackage();
  return { runtime: Object.keys(runtime), image: Object.keys(image) };
}
