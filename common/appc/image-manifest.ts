// Parsing and validation of appc image manifests (the "manifest" file at the root of an ACI).

import { parseApp } from './app.js';
import { parseAnnotations, parseLabels } from './labels.js';
import { checkACIdentifier, checkDependencyImageId, checkSemVer } from './names.js';
import { checkKind, decodeJson, withManifestErrors } from './manifest-input.js';
import { SchemaError, arrayField, asInteger, asObject, asString, field, join, requiredString } from './reader.js';
import type { Dependency, ImageManifest } from './types.js';

function dependency(v: unknown, path: string): Dependency {
  const obj = asObject(v, path);
  const dep: Dependency = {
    imageName: checkACIdentifier(requiredString(obj, 'imageName', path), join(path, 'imageName')),
    labels: parseLabels(field(obj, 'labels'), join(path, 'labels')),
  };
  const id = field(obj, 'imageID');
  if (id !== undefined) dep.imageID = checkDependencyImageId(asString(id, join(path, 'imageID')), join(path, 'imageID'));
  const size = field(obj, 'size');
  if (size !== undefined) dep.size = asInteger(size, join(path, 'size'), 0, Number.MAX_SAFE_INTEGER);
  return dep;
}

function pathWhitelistEntry(v: unknown, path: string): string {
  const s = asString(v, path);
  if (!s.startsWith('/')) throw new SchemaError(path, 'must be an absolute path', s);
  return s;
}

function imageManifestFrom(value: unknown): ImageManifest {
  const obj = asObject(value, '');
  checkKind(obj, 'ImageManifest');
  const manifest: ImageManifest = {
    acKind: 'ImageManifest',
    acVersion: checkSemVer(requiredString(obj, 'acVersion', ''), 'acVersion'),
    name: checkACIdentifier(requiredString(obj, 'name', ''), 'name'),
    labels: parseLabels(field(obj, 'labels'), 'labels'),
    annotations: parseAnnotations(field(obj, 'annotations'), 'annotations'),
    dependencies: arrayField(obj, 'dependencies', '', dependency),
    pathWhitelist: arrayField(obj, 'pathWhitelist', '', pathWhitelistEntry),
  };
  const app = field(obj, 'app');
  if (app !== undefined) manifest.app = parseApp(app, 'app');
  return manifest;
}

/**
 * Parse and validate an image manifest from JSON text, UTF-8 bytes or a parsed JSON value. Unknown
 * fields are ignored and keys match case-insensitively (as appc's Go reference did); wrong types and
 * rule violations throw RktError('MANIFEST_INVALID', 'invalid image manifest: <field> "<value>": <rule>').
 */
export function parseImageManifest(input: unknown): ImageManifest {
  return withManifestErrors('image manifest', () => imageManifestFrom(decodeJson(input)));
}
