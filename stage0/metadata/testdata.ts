// Test fixtures for the metadata service tests (unit and functional): a two-app pod and its image manifests.

export const POD_UUID = '6a2b4c8e-1f3d-4b5a-9c7e-0d1f2a3b4c5d';
export const ID_MAIN = `sha512-${'a1'.repeat(64)}`;
export const ID_SIDE = `sha512-${'b2'.repeat(64)}`;

export function imageManifest(name: string, annotations: { name: string; value: string }[]): Record<string, unknown> {
  return {
    acKind: 'ImageManifest',
    acVersion: '0.8.11',
    name,
    labels: [{ name: 'version', value: '1.0.0' }, { name: 'os', value: 'linux' }, { name: 'arch', value: 'amd64' }],
    app: { exec: ['/bin/app'], user: '0', group: '0' },
    annotations,
  };
}

/** Image annotations of the main app; the pod overrides `role` in place and appends `example.com/extra`. */
export const MAIN_IMAGE = imageManifest('example.com/main', [
  { name: 'authors', value: 'the team' },
  { name: 'role', value: 'image-role' },
  { name: 'created', value: '2024-01-02T03:04:05Z' },
]);
export const SIDE_IMAGE = imageManifest('example.com/sidekick', []);

export function podManifest(withAnnotations = true): Record<string, unknown> {
  const pod: Record<string, unknown> = {
    acKind: 'PodManifest',
    acVersion: '0.8.11',
    apps: [
      {
        name: 'main',
        image: { name: 'example.com/main', id: ID_MAIN },
        annotations: [{ name: 'example.com/extra', value: 'x' }, { name: 'role', value: 'pod-role' }],
      },
      { name: 'sidekick', image: { name: 'example.com/sidekick', id: ID_SIDE } },
    ],
    volumes: [{ name: 'database', kind: 'empty' }],
  };
  if (withAnnotations) pod['annotations'] = [{ name: 'ip-address', value: '10.1.2.3' }, { name: 'example.com/owner', value: 'ops' }];
  return pod;
}

/** The merged annotations the main app must see, in order. */
export const MAIN_MERGED = [
  { name: 'authors', value: 'the team' },
  { name: 'role', value: 'pod-role' },
  { name: 'created', value: '2024-01-02T03:04:05Z' },
  { name: 'example.com/extra', value: 'x' },
];
