/**
 * One cleaned pattern → a test on a context-relative path, with Docker's own choice of exact,
 * prefix, suffix or regular-expression matching. Compiled once; testing allocates nothing.
 */

import { dockerPatternForm, type DockerPatternKind } from './docker-pattern.js';
import { findGlobSyntaxError } from './glob-syntax.js';
import { Re2SyntaxError, translateRe2 } from './re2-to-js.js';

export type PathTest = (path: string) => boolean;

export interface CompiledPattern {
  readonly kind: DockerPatternKind;
  readonly test: PathTest;
}

/** A pattern Docker would refuse: at parse time (Go's Match syntax) or when compiling its regexp. */
export class PatternSyntaxError extends Error {
  override readonly name = 'PatternSyntaxError';
  constructor(
    message: string,
    /** UTF-16 offset in the pattern, when known. */
    readonly offset: number | undefined,
  ) {
    super(message);
  }
}

/** Compile a cleaned pattern (no leading `!`). Throws PatternSyntaxError. */
export function compilePattern(pattern: string): CompiledPattern {
  const syntax = findGlobSyntaxError(pattern);
  if (syntax) throw new PatternSyntaxError(syntax.reason, syntax.offset);

  const form = dockerPatternForm(pattern);
  switch (form.kind) {
    case 'exact':
      return { kind: form.kind, test: (path) => path === pattern };
    case 'prefix': {
      const prefix = pattern.slice(0, -2); // drop the trailing `**`
      return { kind: form.kind, test: (path) => path.startsWith(prefix) };
    }
    case 'suffix':
      return { kind: form.kind, test: suffixTest(pattern.slice(2)) };
    case 'regexp':
      return { kind: form.kind, test: regexpTest(form.re2) };
  }
}

/** After a leading `**`: a plain suffix; one starting with `/` also accepts the bare name. */
function suffixTest(suffix: string): PathTest {
  if (suffix === '') return () => true;
  if (suffix[0] !== '/') return (path) => path.endsWith(suffix);
  const bare = suffix.slice(1);
  return (path) => path.endsWith(suffix) || path === bare;
}

function regexpTest(re2: string): PathTest {
  let translated;
  try {
    translated = translateRe2(re2);
  } catch (e) {
    if (e instanceof Re2SyntaxError) {
      throw new PatternSyntaxError(`invalid regular expression from pattern: ${e.message}`, undefined);
    }
    throw e;
  }
  const re = new RegExp(translated.source, 'u');
  const { requiredPrefix: prefix, requiredSuffix: suffix } = translated;
  // Most paths fail on a literal prefix or suffix long before a RegExp would be needed.
  if (prefix !== '' && suffix !== '') {
    return (path) => path.startsWith(prefix) && path.endsWith(suffix) && re.test(path);
  }
  if (prefix !== '') return (path) => path.startsWith(prefix) && re.test(path);
  if (suffix !== '') return (path) => path.endsWith(suffix) && re.test(path);
  return (path) => re.test(path);
}
