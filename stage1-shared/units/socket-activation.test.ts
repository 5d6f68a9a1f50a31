import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { appServiceUnit } from './app-unit.js';
import type { AppUnitSpec } from './app-spec.js';
import { assignSockets, describePassedSocket, passedSocketFds, socketUnit, socketUnitName, type PassedSocket } from './socket-activation.js';

const http = { name: 'http', protocol: 'tcp', port: 8080, count: 1, socketActivated: true };
const dns = { name: 'dns', protocol: 'udp', port: 53, count: 1, socketActivated: true };
const plain = { name: 'admin', protocol: 'tcp', port: 9000, count: 1, socketActivated: false };

test('only sockets passed to this very process count, named from LISTEN_FDNAMES', () => {
  assert.deepEqual(passedSocketFds({ LISTEN_FDS: '2', LISTEN_PID: '77', LISTEN_FDNAMES: 'http:unknown' }, 77), [{ fd: 3, name: 'http' }, { fd: 4 }]);
  assert.deepEqual(passedSocketFds({ LISTEN_FDS: '2', LISTEN_PID: '76' }, 77), []);
  assert.deepEqual(passedSocketFds({}, 77), []);
});

test('passed sockets pair with socket-activated ports by name; mismatches are refused', () => {
  const apps = [{ name: 'web', ports: [http, plain] }, { name: 'ns', ports: [dns] }];
  const tcp: PassedSocket = { fd: 3, name: 'http', datagram: false, address: '[0:0:0:0:0:0:0:0]:8080' };
  const out = assignSockets(apps, [tcp]);
  assert.deepEqual(out.map((p) => [p.app, p.port.name, p.passed?.fd]), [['web', 'http', 3], ['ns', 'dns', undefined]]);
  assert.throws(() => assignSockets(apps, [{ ...tcp, name: 'metrics' }]), /named "metrics" .* matches no socket-activated port \(ports: web\/http, ns\/dns\)/);
  assert.throws(() => assignSockets(apps, [tcp, { ...tcp, fd: 4 }]), /two sockets passed for port http/);
  assert.throws(() => assignSockets(apps, [{ ...tcp, name: 'dns' }]), /is a stream socket, the port is udp/);
  // one unnamed socket, one port: they pair up
  assert.equal(assignSockets([{ name: 'web', ports: [http] }], [{ fd: 3, datagram: false, address: '127.0.0.1:1' }])[0]?.passed?.fd, 3);
  assert.throws(() => assignSockets(apps, [{ fd: 3, datagram: false, address: '127.0.0.1:1' }]), /fd 3 \(unnamed\)/);
});

test('the socket unit listens on the passed address (or the port in the pod) and the app requires it', () => {
  const unit = socketUnit({ app: 'web', port: http, passed: { fd: 3, name: 'http', datagram: false, address: '127.0.0.1:8080' } });
  assert.match(unit, /^ListenStream=127\.0\.0\.1:8080$/m);
  assert.match(unit, /^FileDescriptorName=http$/m);
  assert.match(unit, /^Service=app-web\.service$/m);
  assert.match(socketUnit({ app: 'ns', port: dns }), /^ListenDatagram=53$/m);
  const spec: AppUnitSpec = {
    name: 'web', exec: ['/bin/true'], identity: { uid: 0, gid: 0, supplementaryGids: [] }, workingDirectory: '/', env: [],
    readOnlyRootfs: false, noNewPrivileges: true, restrictPaths: true, binds: [], interactive: false, preStart: [], postStop: [],
    sockets: [socketUnitName('web', 'http')],
  };
  assert.match(appServiceUnit(spec, 'r.service'), /^Requires=rkt-socket-web-http\.socket$/m);
});

test('a passed descriptor is read back from the kernel: kind and exact bound address', async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    const port = (server.address() as net.AddressInfo).port;
    assert.deepEqual(describePassedSocket({ fd, name: 'http' }), { fd, name: 'http', datagram: false, address: `127.0.0.1:${port}` });
  } finally {
    server.close();
  }
  const file = fs.openSync('/dev/null', 'r');
  try {
    assert.throws(() => describePassedSocket({ fd: file }), /is not a socket \(\/dev\/null\)/);
  } finally {
    fs.closeSync(file);
  }
});
