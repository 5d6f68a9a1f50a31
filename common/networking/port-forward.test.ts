// Unit tests for --port parsing and matching to image ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPortsAllowed, parsePortFlag, resolvePortForwards } from './port-forward.js';

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
