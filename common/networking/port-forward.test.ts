// Unit tests for --port parsing and matching to image ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RktError } from '../errors.js';
import { checkPortsAllowed, parsePortFlag, parseSandboxPortFlag, resolvePortForwards } from './port-forward.js';

test('parsePortFlag', () => {
  assert.deepEqual(parsePortFlag('http:8080'), { name: 'http', hostPort: 8080 });
  assert.deepEqual(parsePortFlag('http:127.0.0.1:8080'), { name: 'http', hostIP: '127.0.0.1', hostPort: 8080 });
  assert.throws(() => parsePortFlag('http'), /expected NAME:\[HOSTIP:\]HOSTPORT/);
  assert.throws(() => parsePortFlag('http:0'), /host port "0" must be 1-65535/);
  assert.throws(() => parsePortFlag('http:70000'), /must be 1-65535/);
  assert.throws(() => parsePortFlag('http:1.2.3:80'), /host IP "1.2.3" is not an IPv4 address/);
  assert.throws(() => parsePortFlag('HTTP:80'), /is not a port name/);
});

test('ports are refused with host and none', () => {
  assert.throws(() => checkPortsAllowed({ kind: 'host' }, [1]), /--port cannot be used with --net=host/);
  assert.throws(() => checkPortsAllowed({ kind: 'none' }, [1]), /--port cannot be used with --net=none/);
  checkPortsAllowed({ kind: 'host' }, []);
  checkPortsAllowed({ kind: 'cni', networks: [], all: false }, [1]);
});

test('resolvePortForwards matches names to image ports', () => {
  const appPorts = [
    { name: 'http', protocol: 'tcp', port: 80, count: 1, socketActivated: false },
    { name: 'dns', protocol: 'udp', port: 53, count: 2, socketActivated: false },
  ];
  assert.deepEqual(resolvePortForwards([{ name: 'http', hostPort: 8080, hostIP: '127.0.0.1' }, { name: 'dns', hostPort: 5353 }], appPorts), [
    { name: 'http', protocol: 'tcp', hostPort: 8080, hostIP: '127.0.0.1', podPort: 80, count: 1 },
    { name: 'dns', protocol: 'udp', hostPort: 5353, podPort: 53, count: 2 },
  ]);
  assert.throws(() => resolvePortForwards([{ name: 'ftp', hostPort: 21 }], appPorts), /no app in the pod has a port with that name/);
  assert.throws(() => resolvePortForwards([{ name: 'http', hostPort: 8080 }, { name: 'http', hostPort: 8080 }], appPorts), /forwarded twice/);
});

test('a sandbox --port names protocol and pod port itself (rkt 1.30 form); bad values name what is wrong', () => {
  assert.deepEqual(parseSandboxPortFlag('http:tcp:80:0.0.0.0:8080'), {
    name: 'http', hostPort: 8080, podPort: { name: 'http', protocol: 'tcp', port: 80, count: 1, socketActivated: false },
  });
  assert.equal(parseSandboxPortFlag('dns:udp:53:127.0.0.1:5353').hostIP, '127.0.0.1');
  for (const [bad, why] of [
    ['http:8080', /expected NAME:PROTO:PODPORT:HOSTIP:HOSTPORT/],
    ['HTTP:tcp:80:0.0.0.0:8080', /"HTTP" is not a port name/],
    ['http:sctp:80:0.0.0.0:8080', /protocol "sctp" is not tcp or udp/],
    ['http:tcp:80:::8080', /expected NAME:PROTO/],
    ['http:tcp:80:localhost:8080', /host IP "localhost" is not an IPv4 address/],
    ['http:tcp:0:0.0.0.0:8080', /must be 1-65535/],
    ['http:tcp:80:0.0.0.0:70000', /must be 1-65535/],
  ] as const) {
    assert.throws(() => parseSandboxPortFlag(bad), (e: unknown) => e instanceof RktError && why.test(e.message) && e.exitCode === 2, bad);
  }
  // with no app to name the port, the flag's own pod port is what gets forwarded
  const f = parseSandboxPortFlag('http:tcp:80:0.0.0.0:8080');
  assert.deepEqual(resolvePortForwards([{ name: f.name, hostPort: f.hostPort, podPort: f.podPort! }], []), [{ name: 'http', protocol: 'tcp', hostPort: 8080, podPort: 80, count: 1 }]);
});
