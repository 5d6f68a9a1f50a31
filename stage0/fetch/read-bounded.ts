// Reading a whole body into memory with a bound: documents, signatures, keys, token and error bodies,
// metadata-service requests. Past the bound, reading stops (leaving the loop destroys the stream) and
// the caller's own error is thrown.
import type { Readable } from 'node:stream';

export async function readBounded(stream: Readable | AsyncIterable<Buffer>, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
