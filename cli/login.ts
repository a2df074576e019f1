/** `tsbuild login` and `logout`: registry credentials in docker's config.json, as docker keeps them. */
import { loginToRegistry, logoutFromRegistry } from '../build/index.js';
import { flagSet, flagValue, parseArgs, usageError, type FlagSpec } from './args.js';
import type { CommandIO } from './command-io.js';
import { registryAccess } from './registry-options.js';

const FLAGS: readonly FlagSpec[] = [
  { name: 'debug', type: 'boolean' },
  { name: 'help', short: 'h', type: 'boolean' },
  { name: 'username', short: 'u', type: 'string' },
  { name: 'password', short: 'p', type: 'string' },
  { name: 'password-stdin', type: 'boolean' },
  { name: 'insecure-registry', type: 'string', multiple: true },
  { name: 'registry-ca', type: 'string', multiple: true },
];

/** `docker.io` when no registry is named, as docker does. */
function registryArg(positionals: readonly string[], command: string): string {
  if (positionals.length > 1) throw usageError(`${command} takes one registry`, `tsbuild ${command} [REGISTRY]`);
  const r = positionals[0] ?? 'docker.io';
  return r.replace(/^https?:\/\//, '').replace(/\/.*$/, '').replace(/^index\.docker\.io$/, 'docker.io');
}

export async function loginCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'login');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild login [-u USER] [--password-stdin | -p PASSWORD] [REGISTRY]\n\nCheck the credentials with the registry and save them in docker\'s config.json.\n');
    return 0;
  }
  const domain = registryArg(p.positionals, 'login');
  const username = flagValue(p, 'username');
  if (username === undefined || username === '') throw usageError('login needs --username', 'tsbuild login -u USER --password-stdin REGISTRY');
  let password = flagValue(p, 'password');
  if (flagSet(p, 'password-stdin')) {
    if (password !== undefined) throw usageError('--password and --password-stdin cannot be used together');
    password = io.readStdin().toString('utf8').replace(/\r?\n$/, '');
  }
  if (password === undefined || password === '') throw usageError('login needs a password', 'pass it with --password-stdin');
  if (flagSet(p, 'password')) io.stderr('WARNING! Using --password on the command line is insecure. Use --password-stdin.\n');
  await loginToRegistry(domain, username, password, registryAccess(p, io.env));
  io.stdout('Login Succeeded\n');
  return 0;
}

export async function logoutCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, FLAGS.slice(0, 2), 'logout');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild logout [REGISTRY]\n\nForget the saved credentials of a registry.\n');
    return 0;
  }
  const domain = registryArg(p.positionals, 'logout');
  io.stdout((await logoutFromRegistry(domain, io.env)) ? `Removing login credentials for ${domain}\n` : `Not logged in to ${domain}\n`);
  return 0;
}
