// gRPC services answer errors as statuses: this maps rkt's own failures onto the codes clients act on
// (NOT_FOUND for ids that are not there, INVALID_ARGUMENT for requests they must not retry as they are).
import { status as GrpcStatus, type ServiceError, Metadata } from '@grpc/grpc-js';
import { isRktError } from '../../common/errors.js';

export class GrpcStatusError extends Error {
  constructor(readonly grpcCode: GrpcStatus, message: string) {
    super(message);
    this.name = 'GrpcStatusError';
  }
}

export const notFound = (what: string): GrpcStatusError => new GrpcStatusError(GrpcStatus.NOT_FOUND, what);
export const invalidArgument = (what: string): GrpcStatusError => new GrpcStatusError(GrpcStatus.INVALID_ARGUMENT, what);
export const failedPrecondition = (what: string): GrpcStatusError => new GrpcStatusError(GrpcStatus.FAILED_PRECONDITION, what);
export const unimplemented = (what: string): GrpcStatusError => new GrpcStatusError(GrpcStatus.UNIMPLEMENTED, what);

export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof GrpcStatusError) return { code: err.grpcCode, details: err.message, metadata: new Metadata() };
  if (isRktError(err)) {
    const code = err.code === 'IMAGE_NOT_FOUND' || err.code === 'POD_NOT_FOUND' || err.code === 'APP_NOT_FOUND'
      ? GrpcStatus.NOT_FOUND
      : err.code === 'USAGE' || err.code === 'POD_AMBIGUOUS' || err.code === 'IMAGE_AMBIGUOUS' ? GrpcStatus.INVALID_ARGUMENT : GrpcStatus.UNKNOWN;
    return { code, details: err.hint ? `${err.message} (${err.hint})` : err.message, metadata: new Metadata() };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { code: GrpcStatus.INTERNAL, details: msg, metadata: new Metadata() };
}
