// `rkt logs` (our addition): a pod's or one app's journal, read with the host's journalctl straight from
// the pod's journal directory, so it works without systemd-machined and after the pod exited.
import fs from 'node:fs/promises';
import path from 'node:path';
import { RktError } from '../../../common/errors.js';
import { readPodManifestFile } from '../../pod/info.js';
import { journalctlArgs, podJournalDir } from '../../pod/journal.js';
import { requirePod } from '../../pod/state.js';
import { podArgument } from '../../pod/uuid.js';
import { ensureOverlaysMounted } from '../../pod/overlays.js';
import { execProgram } from '../../stage1/invoke.js';
import type { CommandModule } from '../registry.js';

async function findOnPath(bin: string): Promise<string> {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir, bin);
    try {
      await fs.access(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new RktError('SUBPROCESS', `${bin} not found on PATH`, { hint: 'install systemd (journalctl)' });
}

export const logsCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('logs')
      .description("print a pod's logs (its journal), optionally one app's, optionally following")
      .argument('[uuid]', 'pod uuid or unique prefix')
      .option('--app <name>', 'only this app')
      .option('-f, --follow', 'keep printing new entries')
      .option('-n, --lines <n>', 'show the last N entries')
      .option('--uuid-file <file>', 'read pod UUID from file instead of argument')
      .action(
        bind('logs', async (ctx, uuidArg: string | undefined, flags: { app?: string; follow?: boolean; lines?: string; uuidFile?: string }) => {
          const uuid = await podArgument(ctx.globals.dir, uuidArg, flags.uuidFile);
          const snap = await requirePod(ctx.globals.dir, uuid);
          if (flags.lines !== undefined && !/^[0-9]+$/.test(flags.lines)) throw new RktError('USAGE', `invalid --lines "${flags.lines}": expected a number`);
          if (flags.app !== undefined) {
            const apps = (await readPodManifestFile(snap.dir))?.apps.map((a) => a.name) ?? [];
            if (!apps.includes(flags.app)) throw new RktError('USAGE', `pod ${uuid} has no app "${flags.app}" (apps: ${apps.join(', ')})`, { exitCode: 254 });
          }
          await ensureOverlaysMounted(snap.dir).catch(() => undefined);
          const dir = podJournalDir(snap.dir, uuid);
          if (dir === undefined) throw new RktError('POD_STATE', `pod ${uuid} has no journal (yet)`, { hint: 'its stage1 writes the journal once the pod has booted' });
          const bin = await findOnPath('journalctl');
          const o: { app?: string; follow: boolean; lines?: number } = { follow: flags.follow === true };
          if (flags.app !== undefined) o.app = flags.app;
          if (flags.lines !== undefined) o.lines = Number(flags.lines);
          const args = journalctlArgs(dir, o);
          ctx.output.debug(`exec ${bin} ${args.join(' ')}`);
          return execProgram(bin, args, process.env);
        }),
      );
  },
};
