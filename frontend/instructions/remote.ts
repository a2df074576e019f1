/** COPY/ADD sources that are not paths (URLs, git repositories): the op description's own classification. */
export { remoteKind } from '../../solver/core/index.js';
