// The appc "app" object (exec, user/group, event handlers, environment, mount points, ports,
// isolators), shared by image manifests and pod manifests (where it replaces the image's app).

import { checkACName } from './names.js';
import { parseIsolators } from './isolators.js';
import {
  type JsonObject, arrayField, asArray, asInteger, asObject, asString, asStringMap, assertUnique, fail,
  field, join, optionalBoolean, requiredString,
} from './reader.js';
import type { App, EnvironmentVariable, EventHandler, MountPoint, Port } from './types.js';

function noNul(s: string, path: string): string {
  if (s.includes('\0')) fail(path, 'must not contain NUL characters');
  return s;
}

function execList(v: unknown, path: string): string[] {
  return asArray(v, path).map((s, i) => noNul(asString(s, join(path, i)), join(path, i)));
}

function eventHandler(v: unknown, path: string): EventHandler {
  const obj = asObject(v, path);
  const name = requiredString(obj, 'name', path);
  if (name !== 'pre-start' && name !== 'post-stop') fail(join(path, 'name'), 'must be "pre-start" or "post-stop"', name);
  const exec = field(obj, 'exec');
  return { name, exec: exec === undefined ? [] : execList(exec, join(path, 'exec')) };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z_0-9.-]*$/;

function environmentVariable(v: unknown, path: string): EnvironmentVariable {
  const obj = asObject(v, path);
  const name = requiredString(obj, 'name', path);
  if (!ENV_NAME.test(name)) fail(join(path, 'name'), 'must match [A-Za-z_][A-Za-z_0-9.-]*', name);
  const raw = field(obj, 'value');
  const value = raw === undefined ? '' : noNul(asString(raw, join(path, 'value')), join(path, 'value'));
  return { name, value };
}

function mountPoint(v: unknown, path: string): MountPoint {
  const obj = asObject(v, path);
  const name = checkACName(requiredString(obj, 'name', path), join(path, 'name'));
  const mpath = noNul(requiredString(obj, 'path', path), join(path, 'path'));
  return { name, path: mpath, readOnly: optionalBoolean(obj, 'readOnly', path) ?? false };
}

/** An app port; also the podPort of a pod manifest's exposed port. */
export function parsePort(v: unknown, path: string): Port {
  const obj = asObject(v, path);
  const name = checkACName(requiredString(obj, 'name', path), join(path, 'name'));
  const protoRaw = field(obj, 'protocol');
  const protocol = protoRaw === undefined ? '' : asString(protoRaw, join(path, 'protocol'));
  const portRaw = field(obj, 'port');
  if (portRaw === undefined) fail(join(path, 'port'), 'is required');
  const port = asInteger(portRaw, join(path, 'port'), 1, 65535);
  const countRaw = field(obj, 'count');
  // appc treats a missing or zero count as 1.
  const count = countRaw === undefined ? 1 : asInteger(countRaw, join(path, 'count'), 0, 65535) || 1;
  if (port + count > 65536) fail(join(path, 'count'), `port range ${port}+${count} must end at or below 65535`);
  return { name, protocol, port, count, socketActivated: optionalBoolean(obj, 'socketActivated', path) ?? false };
}

function optionalStringMap(obj: JsonObject, key: string, path: string): Record<string, string> | undefined {
  const v = field(obj, key);
  return v === undefined ? undefined : asStringMap(v, join(path, key));
}

export function parseApp(v: unknown, path: string): App {
  const obj = asObject(v, path);
  const execRaw = field(obj, 'exec');
  const exec = execRaw === undefined ? [] : execList(execRaw, join(path, 'exec'));
  const user = requiredString(obj, 'user', path);
  const group = requiredString(obj, 'group', path);
  const supplementaryGIDs = arrayField(obj, 'supplementaryGIDs', path, (g, p) => asInteger(g, p, 0, 4294967295));
  const eventHandlers = arrayField(obj, 'eventHandlers', path, eventHandler);
  assertUnique(eventHandlers, (e) => e.name, join(path, 'eventHandlers'), 'event handler');
  const wdRaw = field(obj, 'workingDirectory');
  const wd = wdRaw === undefined ? '' : noNul(asString(wdRaw, join(path, 'workingDirectory')), join(path, 'workingDirectory'));
  if (wd !== '' && !wd.startsWith('/')) fail(join(path, 'workingDirectory'), 'must be an absolute path', wd);
  const environment = arrayField(obj, 'environment', path, environmentVariable);
  assertUnique(environment, (e) => e.name, join(path, 'environment'), 'environment variable');
  const app: App = {
    exec,
    user,
    group,
    supplementaryGIDs,
    eventHandlers,
    workingDirectory: wd === '' ? '/' : wd,
    environment,
    mountPoints: arrayField(obj, 'mountPoints', path, mountPoint),
    ports: arrayField(obj, 'ports', path, parsePort),
    isolators: parseIsolators(field(obj, 'isolators'), join(path, 'isolators'), true),
  };
  const userAnnotations = optionalStringMap(obj, 'userAnnotations', path);
  const userLabels = optionalStringMap(obj, 'userLabels', path);
  if (userAnnotations !== undefined) app.userAnnotations = userAnnotations;
  if (userLabels !== undefined) app.userLabels = userLabels;
  return app;
}
