// The CRI's gRPC statuses: the shared mapping (stage0/grpc/status-error.ts) under the names the CRI code uses.
export {
  GrpcStatusError as CriError, failedPrecondition, invalidArgument, notFound, toServiceError, unimplemented,
} from '../grpc/status-error.js';
