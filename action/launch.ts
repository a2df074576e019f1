/**
 * How the build is started: directly when the action runs as root, else through passwordless
 * sudo. Either way the build's environment is exactly the command's (and PATH), never the
 * action's own: nothing of the runner's environment reaches it unless the command names it.
 *
 * Through sudo, the values travel in the environment and sudo keeps them by name
 * (`--preserve-env=NAME,…`): only names are on the command line, which any user can read in
 * `ps`; an environment is readable by its owner and root only. (A file or a pipe the root side
 * reads would need a program of ours between sudo and the CLI; sudo's own list needs none.)
 * sudo then starts from its fresh environment (HOME, USER, LOGNAME, SHELL, its SUDO_* and its
 * secure PATH) and adds the named variables; sudoers must allow keeping them, as `ALL` rules
 * (GitHub's hosted runners have `NOPASSWD: ALL`) and the `SETENV` tag do.
 */
import { BuildError } from '../errors/index.js';

export interface Launch {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly sudo: boolean;
}

/**
 * The process to start for `tsbuild ARGV`: `cli` is the argv prefix that runs tsbuild, `env`
 * the build's whole environment, `uid` who the action runs as.
 */
export function launchPlan(cli: readonly string[], argv: readonly string[], env: Readonly<Record<string, string>>, opts: { readonly uid: number; readonly path?: string }): Launch {
  const [file, ...rest] = cli;
  if (file === undefined) throw new BuildError('IO', 'no command runs tsbuild');
  const withPath = { ...(opts.path === undefined ? {} : { PATH: opts.path }), ...env };
  if (opts.uid === 0) return { file, args: [...rest, ...argv], env: withPath, sudo: false };
  const names = Object.keys(env).sort();
  for (const n of names) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) throw new BuildError('IO', `the build's environment has a variable sudo cannot keep: ${JSON.stringify(n)}`);
  // -n: never ask for a password (there is nobody to type it); fail instead.
  return { file: 'sudo', args: ['-n', ...(names.length === 0 ? [] : [`--preserve-env=${names.join(',')}`]), '--', file, ...rest, ...argv], env: withPath, sudo: true };
}

/** The error of a build that could not reach root: sudo missing, or refusing (a password, a rule). */
export function needsRootError(why: string): BuildError {
  return new BuildError('IO', `the build needs root: ${why}`, {
    hint: 'run the job as root, or give the runner user passwordless sudo (a sudoers rule with NOPASSWD; GitHub-hosted runners have one)',
  });
}

/** sudo's own complaint among the lines the build printed before any event, if it is one. */
export function sudoRefusal(lines: readonly string[]): string | undefined {
  const said = lines.filter((l) => l.startsWith('sudo: '));
  return said.length === 0 ? undefined : said.map((l) => l.slice('sudo: '.length)).join('; ');
}
