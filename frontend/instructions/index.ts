/** Typed Dockerfile instructions (BuildKit's `instructions` package) and their option parsers. */
export type * from './types.js';
export { parseInstruction, parseInstructions, INSTRUCTION_NAMES, type InstructionContext } from './parse.js';
export { parseRunMount, checkRunMountSyntax } from './runmount.js';
export { parseRunDevice } from './device.js';
export { parseChmod } from './chmod.js';
export { parseExposePort, exposedPortKeys } from './expose.js';
export { parseGoDuration, DurationError } from './duration.js';
export {
  heredocWord, chompHeredoc, planRunCommand, HEREDOC_SCRIPT_DIR, type HeredocWord, type RunCommandPlan,
} from './heredoc.js';
export { goTrimSpace, sortByBytes } from './text.js';
export { remoteKind } from './remote.js';
