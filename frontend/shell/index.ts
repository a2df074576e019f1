/** Shell-word expansion for Dockerfile instructions, as BuildKit's frontend/dockerfile/shell. */
export { Lex, type EscapeToken, type LexOptions, type ProcessWordResult } from './lex.js';
export { envFromList, type Env, type EnvLookup } from './env.js';
export { ShellError, type ShellErrorCode } from './errors.js';
