/** For tests of code that throws BuildErrors. */
import { BuildError } from './index.js';

/** What `f` throws, as `CODE: message` when it is a BuildError (anything else is thrown on); 'no error' when it returns. */
export function buildErrorText(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof BuildError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}
