/** Build checks (lint rules): options from `# check=` / BUILDKIT_DOCKERFILE_CHECK, skipping, error=true. */
export { CHECK_BUILD_ARG, Linter, checkOptionsFor, type LintWarning } from './linter.js';
export { CheckOptionError, parseCheckOptions, type CheckOptions } from './options.js';
