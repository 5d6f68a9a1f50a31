// One unary RPC handler: the request in, one message or one gRPC status out, each call's outcome and time
// on the debug log.
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { toServiceError } from './status-error.js';

export type Req = Record<string, unknown>;
export type UnaryHandler = (req: Req) => Promise<Record<string, unknown>>;

export function unary(name: string, debug: (line: string) => void, fn: UnaryHandler) {
  return (call: ServerUnaryCall<Req, unknown>, cb: sendUnaryData<unknown>): void => {
    const started = Date.now();
    fn(call.request).then(
      (res) => { debug(`${name} ok (${Date.now() - started} ms)`); cb(null, res); },
      (err: unknown) => {
        const e = toServiceError(err);
        debug(`${name} failed: ${e.details ?? ''}`);
        cb(e, null);
      },
    );
  };
}
