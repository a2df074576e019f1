/**
 * Build checks as BuildKit runs them: each lint warning goes through the check options (the
 * `# check=` directive, or the BUILDKIT_DOCKERFILE_CHECK build arg instead of it, plus a
 * `# check=` comment just above an instruction, which adds skips for that instruction only);
 * what is left is reported, and with `error=true` fails the build once planning is done.
 */
import { BuildError, type SourceRange } from '../../errors/index.js';
import type { DockerfileAST } from '../parser/ast.js';
import { CheckOptionError, parseCheckOptions, type CheckOptions } from './options.js';

/** The build arg that replaces the `# check=` directive, as in BuildKit. */
export const CHECK_BUILD_ARG = 'BUILDKIT_DOCKERFILE_CHECK';

export interface LintWarning {
  /** The rule's name, e.g. StageNameCasing. */
  readonly code: string;
  readonly message: string;
  readonly range?: SourceRange;
}

/** The options a build runs checks with; a malformed value fails with BuildKit's message. */
export function checkOptionsFor(ast: DockerfileAST, buildArgs: ReadonlyMap<string, string> | undefined): CheckOptions {
  const fromArg = buildArgs?.get(CHECK_BUILD_ARG);
  if (fromArg !== undefined) {
    try {
      return parseCheckOptions(fromArg);
    } catch (e) {
      if (e instanceof CheckOptionError) throw new BuildError('BAD_DIRECTIVE', `failed to parse ${CHECK_BUILD_ARG}: ${e.message}`);
      throw e;
    }
  }
  const directive = ast.directives.find((d) => d.name === 'check');
  if (directive === undefined) return parseCheckOptions('');
  try {
    // Only up to the first space, as BuildKit reads a directive's value.
    return parseCheckOptions(directive.value.split(' ')[0]!);
  } catch (e) {
    if (e instanceof CheckOptionError) throw new BuildError('BAD_DIRECTIVE', `failed to parse check options: ${e.message}`, { range: directive.range });
    throw e;
  }
}

/** The first `check=` among an instruction's comments, if it parses; BuildKit ignores it otherwise. */
function commentOptions(comments: readonly string[]): CheckOptions | undefined {
  for (const comment of comments) {
    const m = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/s.exec(comment.trimStart());
    if (m === null || m[1]!.toLowerCase() !== 'check') continue;
    try {
      return parseCheckOptions(m[2]!.split(' ')[0]!);
    } catch (e) {
      if (e instanceof CheckOptionError) return undefined;
      throw e;
    }
  }
  return undefined;
}

export class Linter {
  /** The warnings reported, in order. */
  readonly warnings: LintWarning[] = [];
  private readonly skipped: Set<string>;

  constructor(private readonly options: CheckOptions) {
    this.skipped = new Set(options.skip);
  }

  /** Reports `w` unless skipped, globally or by a `# check=` comment of its instruction. */
  report(w: LintWarning, comments: readonly string[] = []): void {
    const local = commentOptions(comments);
    if (this.options.skipAll || local?.skipAll === true) return;
    if (this.skipped.has(w.code) || local?.skip.includes(w.code) === true) return;
    this.warnings.push(w);
  }

  /** With `error=true` and warnings reported: BuildKit's error, the warnings in the hint. */
  failure(): BuildError | undefined {
    if (!this.options.error || this.warnings.length === 0) return undefined;
    const rules = [...new Set(this.warnings.map((w) => w.code))];
    const lines = this.warnings.map((w) => `${w.code}: ${w.message}${w.range === undefined ? '' : ` (line ${w.range.start.line})`}`);
    return new BuildError('CHECK_FAILED', `lint violation found for rules: ${rules.join(', ')}`, {
      hint: `check=error=true makes these warnings errors (check=skip=RULE skips a rule):\n${lines.map((l) => `    ${l}`).join('\n')}`,
    });
  }
}
