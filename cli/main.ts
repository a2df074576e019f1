/**
 * The `tsbuild` command. The only code that prints and decides exit statuses:
 * 0 success, 1 the work failed (bad Dockerfile, failing build), 2 bad usage, 130 interrupted
 * (SIGINT or SIGTERM, see interrupt.ts).
 */
import { readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { isBuildError } from '../errors/index.js';
import { takeBackExtraCaCerts } from './extra-ca.js';
import { INTERRUPTED_STATUS } from './interrupt.js';
import { inPrivateMountNamespace, reexecInMountNamespace } from './mount-namespace.js';
import { renderError } from './render-error.js';
import { stdoutWriter } from './stdout.js';

// Node 22.1+ keeps compiled code of the modules loaded below on disk: a start of tsbuild
// then compiles almost nothing. Node 20 has no such cache; nothing changes there.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const argv = process.argv.slice(2);
const debug = argv.includes('--debug');
const sources = new Map<string, Buffer>();

function sourceLine(file: string, line: number): string | undefined {
  let data = sources.get(file);
  if (data === undefined) {
    try {
      data = readFileSync(file);
    } catch {
      return undefined;
    }
  }
  const text = data.toString('utf8').replace(/^\ufeff/, '');
  return text.split('\n')[line - 1]?.replace(/\r$/, '');
}

/** Commands that mount snapshots run in a private mount namespace of their own. */
function needsMounts(args: readonly string[]): boolean {
  const first = args[0];
  if (first === undefined || args.includes('--help') || args.includes('-h')) return false;
  return first === 'build' || first === '.' || first.startsWith('-') || first.includes('/');
}

/** The whole command; no top-level await, so that the bundle can be a script (see bin/start.cjs). */
async function main(): Promise<void> {
  takeBackExtraCaCerts(process.env, (line) => process.stderr.write(line));
  try {
    if (needsMounts(argv) && process.getuid?.() === 0 && !inPrivateMountNamespace(process.env)) {
      process.exitCode = await reexecInMountNamespace([process.argv[1]!, ...argv]);
    } else {
      // Loaded only here: the outer process of a re-exec never needs the engine's modules.
      const { runCommand } = await import('./commands.js');
      process.exitCode = await runCommand(argv, {
        stdout: stdoutWriter(),
        stderr: (s) => process.stderr.write(s),
        readStdin: () => readFileSync(0),
        env: process.env,
        sources,
        // Made on first use: a quiet build never writes to standard error.
        get progressStream() {
          return process.stderr;
        },
      });
    }
  } catch (e) {
    process.stderr.write(renderError(e, sourceLine, debug));
    process.exitCode = !isBuildError(e) ? 1 : e.code === 'USAGE' ? 2 : e.code === 'INTERRUPTED' ? INTERRUPTED_STATUS : 1;
  }
}

void main();
