// `rkt config`: the merged configuration, as rkt printed it ({"stage0": [...]}).
import { loadConfig } from '../../config/config.js';
import type { CommandModule } from '../registry.js';

export const configCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('config')
      .description('print configuration for each stage in JSON format')
      .option('--pretty-print', 'apply indent to format the output', true)
      .option('--no-pretty-print', 'print compact JSON')
      .action(
        bind('config', async (ctx, opts: { prettyPrint: boolean }) => {
          const cfg = loadConfig(ctx.globals);
          const stage0: unknown[] = [];
          for (const a of cfg.auth) {
            stage0.push({ rktVersion: 'v1', rktKind: 'auth', domains: a.domains, type: a.type, credentials: redact(a.credentials) });
          }
          for (const d of cfg.dockerAuth) {
            stage0.push({ rktVersion: 'v1', rktKind: 'dockerAuth', registries: d.registries, credentials: redact({ ...d.credentials }) });
          }
          for (const m of cfg.registryMirrors) stage0.push({ rktVersion: 'v1', rktKind: 'registryMirror', registries: m.registries, mirror: m.mirror });
          stage0.push({ rktVersion: 'v1', rktKind: 'paths', data: cfg.paths.data ?? ctx.globals.dir, 'stage1-images': cfg.paths.stage1Images ?? '' });
          stage0.push({ rktVersion: 'v1', rktKind: 'stage1', ...cfg.stage1 });
          ctx.output.out(JSON.stringify({ stage0 }, null, opts.prettyPrint ? '\t' : undefined));
          return 0;
        }),
      );
  },
};

function redact(creds: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(creds)) out[k] = k === 'user' ? (creds[k] ?? '') : '***';
  return out;
}
