// The pod's port forwards as host nftables rules: one table per pod, so teardown deletes exactly what run added.
// (Parsing and resolving --port lives in common/networking/port-forward.ts: stage0 checks the flags too.)
import { writeFile } from 'node:fs/promises';
import type { PortForward } from '../../common/networking/port-forward.js';
import { parseIpJson, tool } from './sys.js';

/** The pod's own nftables table; deleting it removes every rule the pod added, and nothing else. */
export function portForwardTable(uuid: string): string {
  return `rkt-${uuid}`;
}

function range(first: number, count: number): string {
  return count === 1 ? String(first) : `${first}-${first + count - 1}`;
}

/** The nft script that creates the pod's table (pure, unit-tested). */
export function buildPortForwardRuleset(uuid: string, podIP: string, forwards: readonly PortForward[]): string {
  const t = portForwardTable(uuid);
  const pre: string[] = [];
  const post: string[] = [];
  for (const f of forwards) {
    // Any local address (fib ... type local) unless the user pinned one host IP.
    const match = f.hostIP === undefined ? 'fib daddr type local' : `ip daddr ${f.hostIP}`;
    // One rule per port: nft's "dnat to ip:a-b" picks any port in the range, it does not map 1:1.
    for (let i = 0; i < f.count; i++) {
      pre.push(`    ${match} ${f.protocol} dport ${f.hostPort + i} dnat to ${podIP}:${f.podPort + i}`);
    }
    // Connections from 127.0.0.1 keep that source after DNAT; the pod could not answer it, so rewrite it.
    post.push(`    ip saddr 127.0.0.0/8 ip daddr ${podIP} ${f.protocol} dport ${range(f.podPort, f.count)} masquerade`);
  }
  return [
    `table ip ${t} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...pre,
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...pre,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...post,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Host interface the kernel uses to reach the pod (ptp: the pod's host veth; bridge: the bridge). */
async function hostDevToward(podIP: string): Promise<string | undefined> {
  const res = await tool('ip', ['-j', 'route', 'get', podIP]);
  const routes = parseIpJson(res.stdout, `the route to ${podIP}`);
  const dev = (routes[0] as { dev?: unknown } | undefined)?.dev;
  return typeof dev === 'string' ? dev : undefined;
}

/** Installs the pod's table. 127.0.0.1 traffic needs route_localnet on the interface toward the pod. */
export async function applyPortForwards(uuid: string, podIP: string, forwards: readonly PortForward[]): Promise<void> {
  if (forwards.length === 0) return;
  const dev = await hostDevToward(podIP);
  if (dev !== undefined && /^[A-Za-z0-9_.@-]+$/.test(dev) && dev !== 'lo') {
    await writeFile(`/proc/sys/net/ipv4/conf/${dev}/route_localnet`, '1');
  }
  await removePortForwards(uuid);
  await tool('nft', ['-f', '-'], { input: buildPortForwardRuleset(uuid, podIP, forwards) });
}

/** Deletes the pod's table; a missing table is fine (the "add then delete" idiom makes it idempotent). */
export async function removePortForwards(uuid: string): Promise<void> {
  const t = portForwardTable(uuid);
  await tool('nft', ['-f', '-'], { input: `add table ip ${t}\ndelete table ip ${t}\n` });
}
