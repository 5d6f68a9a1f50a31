// The metav1.Status documents that end an exec or attach on the error channel (3). The v4 and
// v5 protocols carry the JSON; the unversioned ones carry only a failure's message text (and
// nothing on success), as kubelet's remotecommand does.

export interface StatusCause {
  reason?: string;
  message?: string;
}

export interface Status {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: StatusCause[] };
  code?: number;
}

export const NON_ZERO_EXIT_CODE_REASON = 'NonZeroExitCode';
export const EXIT_CODE_CAUSE_TYPE = 'ExitCode';

export function successStatus(): Status {
  return { metadata: {}, status: 'Success' };
}

/** `what` says what ended, e.g. `error executing command [sh -c exit 3], exit code 3`. */
export function nonZeroExitStatus(exitCode: number, what: string): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: ${what}`,
    reason: NON_ZERO_EXIT_CODE_REASON,
    details: { causes: [{ reason: EXIT_CODE_CAUSE_TYPE, message: String(exitCode) }] },
  };
}

export function internalErrorStatus(message: string): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** The error channel's payload for `status` under a protocol of `version`; null: send nothing. */
export function encodeStatus(status: Status, version: number): Buffer | null {
  if (version >= 4) return Buffer.from(JSON.stringify(status));
  if (status.status === 'Success') return null;
  return Buffer.from(status.message ?? 'unknown error');
}
