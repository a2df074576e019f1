/**
 * Subcommand dispatch. Each command returns its exit status or throws a BuildError.
 */
import { readFileSync } from 'node:fs';
import { BuildError, didYouMean } from '../errors/index.js';
import { parseDockerfile, parsePlatform, planBuild } from '../build/index.js';
import { buildArgsFrom, flagSet, flagValue, flagValues, parseArgs, usageError, type FlagSpec } from './args.js';
import type { CommandIO } from './command-io.js';
import { VERSION } from './version.js';
import { buildCommand } from './build.js';
import { loginCommand, logoutCommand } from './login.js';
import { pushCommand } from './push.js';
import { pullCommand } from './pull.js';
import { duCommand, imagesCommand, inspectCommand, pruneCommand, rmiCommand, tagCommand } from './images.js';

const COMMON: readonly FlagSpec[] = [
  { name: 'debug', type: 'boolean' },
  { name: 'help', short: 'h', type: 'boolean' },
];

const USAGE = `Usage: tsbuild [build] [flags] CONTEXT
       tsbuild parse [--dump | --plan [--target STAGE] [--build-arg K[=V]]... [--platform P]] [FILE]
       tsbuild images | tag SRC DST | rmi NAME | inspect NAME | du | prune [--all] [--keep-storage SIZE]
       tsbuild login [-u USER] [--password-stdin] [REGISTRY] | logout [REGISTRY]
       tsbuild pull [--platform P] NAME | push NAME [TARGET]
       tsbuild version

Commands:
  build     build an image from a Dockerfile (the default command)
  parse     parse a Dockerfile; --dump prints its syntax tree in BuildKit's dump format,
            --plan the stages a target needs after ARG/ENV expansion, as JSON
  images    list the local image store; tag, rmi and inspect work on its names
  du        disk space of images, blobs and build cache; prune frees what nothing uses
  pull      an image from its registry into the local store; push one to a registry
  login     save registry credentials in docker's config.json; logout removes them
  version   print the version
`;

type Command = (argv: readonly string[], io: CommandIO) => Promise<number>;

const commands: Record<string, Command> = {
  parse: parseCommand,
  version: async (argv, io) => {
    parseArgs(argv, COMMON, 'version');
    io.stdout(`tsbuild ${VERSION}\n`);
    return 0;
  },
  help: async (_argv, io) => {
    io.stdout(USAGE);
    return 0;
  },
  build: (argv, io) => buildCommand(argv, io),
  images: imagesCommand,
  tag: tagCommand,
  rmi: rmiCommand,
  inspect: inspectCommand,
  du: duCommand,
  prune: pruneCommand,
  login: loginCommand,
  pull: pullCommand,
  push: pushCommand,
  logout: logoutCommand,
};

export async function runCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h') {
    io.stdout(USAGE);
    return first === undefined ? 2 : 0;
  }
  if (first === '--version') return commands.version!([], io);
  const cmd = commands[first];
  if (cmd !== undefined) return cmd(argv.slice(1), io);
  // Anything else is a build: `tsbuild -f Dockerfile .` or `tsbuild .`
  if (first.startsWith('-') || first === '.' || first.includes('/')) return commands.build!(argv, io);
  const hint = didYouMean(first, Object.keys(commands));
  throw usageError(`unknown command "${first}"`, hint ?? 'run "tsbuild --help" for the list of commands');
}

const PARSE_FLAGS: readonly FlagSpec[] = [
  ...COMMON,
  { name: 'dump', type: 'boolean' },
  { name: 'plan', type: 'boolean' },
  { name: 'file', short: 'f', type: 'string' },
  { name: 'target', type: 'string' },
  { name: 'build-arg', type: 'string', multiple: true },
  { name: 'platform', type: 'string' },
];

const PARSE_HELP = `Usage: tsbuild parse [--dump | --plan] [FILE]

Check a Dockerfile (default ./Dockerfile, "-" reads stdin): syntax, instructions, flags,
stages and variable expansion, reporting the first error and any warnings.
  --dump                print the syntax tree in BuildKit's dump format (syntax only)
  --plan                print the build plan as JSON: the stages the target needs, each step
                        after ARG/ENV expansion, and each stage's image config (base images
                        are taken as empty: parse reads no image store and no registry)
  --target STAGE        the stage to build (default: the last)
  --build-arg K[=V]     a build arg; K alone takes the value of $K (skipped when unset)
  --platform OS/ARCH    the target platform
`;

/** `--build-arg K=V` and `--build-arg K` (the value of $K, skipped when unset), as docker does. */
async function parseCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, PARSE_FLAGS, 'parse');
  if (flagSet(p, 'help')) {
    io.stdout(PARSE_HELP);
    return 0;
  }
  if (p.positionals.length > 1) throw usageError('parse takes at most one file', 'tsbuild parse [--dump | --plan] [FILE]');
  if (flagSet(p, 'dump') && flagSet(p, 'plan')) throw usageError('--dump and --plan cannot be used together');
  for (const f of ['target', 'build-arg', 'platform']) {
    if (flagSet(p, f) && flagSet(p, 'dump')) throw usageError(`--${f} does not apply to --dump`);
  }
  const file = p.positionals[0] ?? flagValue(p, 'file') ?? 'Dockerfile';
  const data = readSource(file, io);
  const result = parseDockerfile(data, { file: file === '-' ? '<stdin>' : file });
  // --dump shows the syntax tree as BuildKit's parser sees it, unknown instructions and all;
  // otherwise the whole frontend runs, so that every error a build would meet shows here
  // (and the parser's warnings come with the plan's, through the build checks).
  if (flagSet(p, 'dump')) {
    for (const w of result.ast.warnings) {
      io.stderr(`warning: ${w.range.file}:${w.range.start.line}: ${w.message}\n`);
    }
    io.stdout(result.dump());
  } else {
    const platform = flagValue(p, 'platform');
    let targetPlatform;
    try {
      targetPlatform = platform === undefined ? undefined : parsePlatform(platform);
    } catch (e) {
      if (e instanceof BuildError) throw usageError(`--platform: ${e.message}`, e.hint);
      throw e;
    }
    const target = flagValue(p, 'target');
    const plan = await planBuild(result.ast, {
      buildArgs: buildArgsFrom(flagValues(p, 'build-arg'), io.env),
      ...(target === undefined ? {} : { target }),
      ...(targetPlatform === undefined ? {} : { targetPlatform }),
    });
    for (const w of plan.warnings) {
      const at = w.range === undefined ? '' : `${w.range.file}:${w.range.start.line}: `;
      io.stderr(`warning: ${at}${w.message}\n`);
    }
    if (flagSet(p, 'plan')) io.stdout(JSON.stringify(plan, null, 2) + '\n');
  }
  return 0;
}

function readSource(file: string, io: CommandIO): Buffer {
  let data: Buffer;
  try {
    data = file === '-' ? io.readStdin() : readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new BuildError('IO', `cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  io.sources.set(file === '-' ? '<stdin>' : file, data);
  return data;
}
