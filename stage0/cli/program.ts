// The root commander program: rkt's global flags and how commander reports. main.ts adds the commands;
// command-tree.ts builds the same root with every command, for the tools that walk them all.
import { Command, Option } from 'commander';

export function createProgram(): Command {
  return new Command('rkt')
    .description('rkt, the pod runner: verified App Container images as nspawn or KVM pods')
    .addOption(new Option('--dir <dir>', 'rkt data directory').default(undefined, '/var/lib/rkt'))
    .addOption(new Option('--local-config <dir>', 'local configuration directory').default(undefined, '/etc/rkt'))
    .addOption(new Option('--system-config <dir>', 'system configuration directory').default(undefined, '/usr/lib/rkt'))
    .option('--user-config <dir>', 'user configuration directory')
    .option('--debug', 'print out more debug information to stderr')
    .option(
      '--insecure-options <list>',
      'comma-separated list of security features to disable: none,image,tls,http,pubkey,capabilities,paths,seccomp,all-fetch,all-run,all',
    )
    .option('--trust-keys-from-https', 'automatically trust gpg keys fetched from https')
    // Global flags go before the command, so each command's help says which they are.
    .configureHelp({ showGlobalOptions: true })
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
    });
}
