// Removes CNI masquerade rules (iptables nat) left for a pod whose netns vanished before CNI DEL ran:
// ptp/bridge only find their rules through the addresses inside the netns, so they leave them then.
import { tool } from './sys.js';

/** The iptables-restore script deleting every nat rule commented with this container id, and its chains. */
export function buildIpMasqSweep(iptablesSave: string, containerId: string): string | undefined {
  const marker = `id: \\"${containerId}\\"`;
  const deletes: string[] = [];
  const chains = new Set<string>();
  for (const line of iptablesSave.split('\n')) {
    if (!line.startsWith('-A ') || !line.includes(marker)) continue;
    const m = / -j (CNI-[A-Za-z0-9]+)$/.exec(line);
    const chain = line.split(' ')[1];
    if (m?.[1] !== undefined) chains.add(m[1]);
    // Rules inside our own CNI- chain go away with the chain; delete only the jumps from elsewhere.
    if (chain !== undefined && !chains.has(chain) && !chain.startsWith('CNI-')) deletes.push(`-D ${line.slice(3)}`);
  }
  if (deletes.length === 0 && chains.size === 0) return undefined;
  const chainOps = [...chains].flatMap((c) => [`-F ${c}`, `-X ${c}`]);
  return ['*nat', ...deletes, ...chainOps, 'COMMIT', ''].join('\n');
}

/** Best effort: a host without iptables has no such rules. */
export async function sweepIpMasq(containerId: string): Promise<void> {
  const save = await tool('iptables-save', ['-t', 'nat'], { check: false });
  if (save.exitCode !== 0) return;
  const script = buildIpMasqSweep(save.stdout, containerId);
  if (script === undefined) return;
  await tool('iptables-restore', ['--noflush'], { input: script });
}
