// CRI answers errors as gRPC statuses; this maps the runtime's own failures onto the codes kubelet acts on
// (NOT_FOUND for ids it may retry on, INVALID_ARGUMENT for configs it must not retry).
import { status as GrpcStatus, type ServiceError, Metadata } from '@grpc/grpc-js';
import { isRktError } from '../../common/errors.js';

export class CriError extends Error {
  constructor(readonly grpcCode: GrpcStatus, message: string) {
    super(message);
    this.name = 'CriError';
  }
}

export const notFound = (what: string): CriError => new CriError(GrpcStatus.NOT_FOUND, what);
export const invalidArgument = (what: string): CriError => new CriError(GrpcStatus.INVALID_ARGUMENT, what);
export const failedPrecondition = (what: string): CriError => new CriError(GrpcStatus.FAILED_PRECONDITION, what);
export const unimplemented = (what: string): CriError => new CriError(GrpcStatus.UNIMPLEMENTED, what);

export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof CriError) return { code: err.grpcCode, details: err.message, metadata: new Metadata() };
  if (isRktError(err)) {
    const code = err.code === 'IMAGE_NOT_FOUND' || err.code === 'POD_NOT_FOUND' || err.code === 'APP_NOT_FOUND'
      ? GrpcStatus.NOT_FOUND
      : err.code === 'USAGE' ? GrpcStatus.INVALID_ARGUMENT : GrpcStatus.UNKNOWN;
    return { code, details: err.hint ? `${err.message} (${err.hint})` : err.message, metadata: new Metadata() };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { code: GrpcStatus.INTERNAL, details: msg, metadata: new Metadata() };
}
