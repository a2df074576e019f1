/**
 * Subcommand dispatch. Each command returns its exit status or throws a BuildError.
 */
import { readFileSync } from 'node:fs';
import { BuildError, didYouMean } from '../errors/index.js';
import { parseDockerfile } from '../frontend/index.js';
import { flagSet, parseArgs, usageError, type FlagSpec } from './args.js';
import { VERSION } from './version.js';

export interface CommandIO {
  readonly stdout: (s: string | Uint8Array) => void;
  readonly stderr: (s: string) => void;
  readonly readStdin: () => Buffer;
  readonly env: NodeJS.ProcessEnv;
  /** Sources read so far, by the name errors use, so that errors can show the line. */
  readonly sources: Map<string, Buffer>;
}

const COMMON: readonly FlagSpec[] = [
  { name: 'debug', type: 'boolean' },
  { name: 'help', short: 'h', type: 'boolean' },
];

const USAGE = `Usage: tsbuild [build] [flags] CONTEXT
       tsbuild parse [--dump] [FILE]
       tsbuild version

Commands:
  build     build an image from a Dockerfile (the default command)
  parse     parse a Dockerfile; --dump prints its syntax tree in BuildKit's dump format
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
  build: async () => {
    throw new BuildError('NOT_SUPPORTED', 'not supported yet: building images (the build engine is still being written)', {
      hint: 'use "tsbuild parse --dump FILE" to check a Dockerfile',
    });
  },
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

async function parseCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, [...COMMON, { name: 'dump', type: 'boolean' }, { name: 'file', short: 'f', type: 'string' }], 'parse');
  if (flagSet(p, 'help')) {
    io.stdout('Usage: tsbuild parse [--dump] [FILE]\n\nParse a Dockerfile (default ./Dockerfile, "-" for stdin) and report errors;\n--dump prints the syntax tree in BuildKit\'s dump format.\n');
    return 0;
  }
  if (p.positionals.length > 1) throw usageError('parse takes at most one file', 'tsbuild parse [--dump] [FILE]');
  const file = p.positionals[0] ?? p.flags.get('file')?.[0] ?? 'Dockerfile';
  const data = readSource(file, io);
  const result = parseDockerfile(data, { file: file === '-' ? '<stdin>' : file });
  for (const w of result.ast.warnings) {
    io.stderr(`warning: ${w.range.file}:${w.range.start.line}: ${w.message}\n`);
  }
  if (flagSet(p, 'dump')) io.stdout(result.dump());
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
