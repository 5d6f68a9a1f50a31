// The one error type every layer throws: a code, a one-line user-facing message, a hint and a cause.
// Library code throws these and never prints or exits; bin/rkt.ts renders them once.

export type RktErrorCode =
  | 'USAGE'
  | 'NOT_ROOT'
  | 'CONFIG_INVALID'
  | 'MANIFEST_INVALID'
  | 'NAME_INVALID'
  | 'IMAGE_INVALID'
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_AMBIGUOUS'
  | 'IMAGE_HOSTILE'
  | 'STORE'
  | 'FETCH'
  | 'DISCOVERY'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'KEY_UNTRUSTED'
  | 'KEY_INVALID'
  | 'TRUST'
  | 'POD_NOT_FOUND'
  | 'POD_AMBIGUOUS'
  | 'POD_STATE'
  | 'POD_INVALID'
  | 'APP_NOT_FOUND'
  | 'APP_EXISTS'
  | 'APP_STATE'
  | 'STAGE1'
  | 'STAGE1_ENTRYPOINT_MISSING'
  | 'SUBPROCESS'
  | 'NETWORK_CONFIG'
  | 'NETWORK'
  | 'MDS'
  | 'INTERNAL';

export interface RktErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Exit status to use instead of 254 (2 for usage errors). */
  exitCode?: number;
}

export class RktError extends Error {
  readonly code: RktErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: RktErrorCode, message: string, options: RktErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Object.defineProperty(this, 'name', { value: 'RktError', enumerable: false });
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? (code === 'USAGE' ? 2 : 254);
  }
}

export function isRktError(err: unknown): err is RktError {
  return err instanceof RktError;
}

/** Narrow an unknown thrown value to a Node errno code such as 'ENOENT'. */
export function errnoCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

export function describeCause(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The single line printed for an error: message, then the hint after "; ". */
export function formatErrorLine(err: unknown): string {
  if (err instanceof RktError) {
    return err.hint ? `${err.message} (${err.hint})` : err.message;
  }
  return describeCause(err);
}

/** The cause chain as an indented tree, for --debug. */
export function formatErrorTree(err: unknown): string {
  const lines: string[] = [];
  let cur: unknown = err;
  let depth = 0;
  while (cur !== undefined && depth < 16) {
    const text = cur instanceof Error ? `${cur.name}: ${cur.message}` : String(cur);
    lines.push(depth === 0 ? text : `${'  '.repeat(depth - 1)}└─${text}`);
    cur = cur instanceof Error ? cur.cause : undefined;
    depth++;
  }
  return lines.join('\n');
}
