// Loads rkt's v1alpha API (v1alpha.proto, next to this module) into the gRPC service definition of
// v1alpha.PublicAPI; stage0/grpc/proto.ts says how its messages look in JavaScript.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, protoFileOf, serviceIn } from '../../grpc/proto.js';

/** The .proto file: next to the compiled module (the build copies it to dist/stage0/api/proto/), else in the source tree. */
export function apiProtoPath(): string {
  return protoFileOf(import.meta.url, 'stage0/api/proto', 'v1alpha.proto');
}

let cached: grpc.ServiceDefinition | undefined;

/** v1alpha.PublicAPI, loaded once per process. */
export function loadPublicApi(): grpc.ServiceDefinition {
  if (cached !== undefined) return cached;
  const file = apiProtoPath();
  cached = serviceIn(grpc.loadPackageDefinition(protoLoader.loadSync(file, PROTO_LOADER_OPTIONS)), ['v1alpha'], 'PublicAPI', file);
  return cached;
}
