// Unit tests for the dependency plan: layer order, whitelists along each branch, cycles, tree IDs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dependency, ImageManifest } from '../../common/appc/index.js';
import { planLayers, treeIdOf, type DepSource } from './render.js';

function source(graph: Record<string, { deps: string[]; whitelist?: string[] }>): DepSource {
  return {
    async manifest(id) {
      const node = graph[id];
      if (!node) throw new Error(`no ${id}`);
      return {
        acKind: 'ImageManifest',
        acVersion: '0.8.11',
        name: id,
        labels: [],
        annotations: [],
        dependencies: node.deps.map((d): Dependency => ({ imageName: d, labels: [] })),
        pathWhitelist: node.whitelist ?? [],
      } as ImageManifest;
    },
    async resolveDependency(dep) {
      return dep.imageName;
    },
  };
}

test('layers are upper first, depth first: A -> [B, C], C -> [D] gives A, C, D, B', async () => {
  const plan = await planLayers(source({ A: { deps: ['B', 'C'] }, B: { deps: [] }, C: { deps: ['D'] }, D: { deps: [] } }), 'A');
  assert.deepEqual(plan.map((p) => p.id), ['A', 'C', 'D', 'B']);
  assert.deepEqual(plan.map((p) => p.top), [true, false, false, false]);
});

test('a shared dependency appears once per path (D, B, D, C, A override order)', async () => {
  const plan = await planLayers(source({ A: { deps: ['B', 'C'] }, B: { deps: ['D'] }, C: { deps: ['D'] }, D: { deps: [] } }), 'A');
  assert.deepEqual(plan.map((p) => p.id), ['A', 'C', 'D', 'B', 'D']);
});

test('whitelists apply to the image and everything below it', async () => {
  const plan = await planLayers(source({ A: { deps: ['B'], whitelist: ['/a'] }, B: { deps: ['C'], whitelist: ['/b'] }, C: { deps: [] } }), 'A');
  assert.deepEqual(plan.map((p) => p.whitelists.length), [1, 2, 2]);
});

test('cycles are refused and tree IDs depend on the whole list', async () => {
  await assert.rejects(planLayers(source({ A: { deps: ['B'] }, B: { deps: ['A'] } }), 'A'), /dependency cycle: A -> B -> A/);
  const one = treeIdOf([{ id: 'x', whitelists: [], top: true }]);
  const two = treeIdOf([{ id: 'x', whitelists: [], top: true }, { id: 'y', whitelists: [], top: false }]);
  assert.match(one, /^deps-sha512-[0-9a-f]{64}$/);
  assert.notEqual(one, two);
});
