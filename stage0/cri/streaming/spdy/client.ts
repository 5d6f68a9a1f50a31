// The client side of a SPDY streaming URL, as client-go's SPDY dialer makes it: an HTTP upgrade to
// SPDY/3.1 offering stream protocols, then a client session. The endpoint itself never dials; the
// tests drive the streaming server through this.
import http from 'node:http';
import { SpdySession } from './session.js';

export function dialSpdy(url: string, protocols: readonly string[]): Promise<{ session: SpdySession; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': [...protocols] } });
    req.on('upgrade', (res, socket, head) => resolve({ session: new SpdySession(socket, 'client', head), protocol: String(res.headers['x-stream-protocol-version']) }));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(new Error(`${res.statusCode}: ${body.trim()}`)));
    });
    req.on('error', reject);
    req.end();
  });
}
