// `rkt completion SHELL`: prints a completion script for SHELL, made from the command table at run time.
import { RktError } from '../../../common/errors.js';
import { loadCommandTree } from '../command-tree.js';
import { bashCompletionScript, completionTree } from '../completion.js';
import type { CommandModule } from '../registry.js';

export const completionCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('completion')
      .description('print a shell completion script (bash) to stdout')
      .argument('<shell>', 'the shell to complete for: bash')
      .action(
        bind('completion', async (_ctx, shell: string) => {
          if (shell !== 'bash') {
            // rkt, too, answered every other shell with an error of its own (exit 254), not a usage one
            throw new RktError('USAGE', `unsupported shell "${shell}": only bash is supported`, {
              exitCode: 254,
              hint: 'load the bash script with: source <(rkt completion bash)',
            });
          }
          // The whole tree, not just this command: main registered only `completion` for this argv.
          process.stdout.write(bashCompletionScript(completionTree(await loadCommandTree())));
          return 0;
        }),
      );
  },
};
