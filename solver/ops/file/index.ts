/**
 * File operations of COPY, ADD and WORKDIR, done directly on directories (no container):
 *
 *   await copy({ destRoot, dest: 'app/', workdir: '/srv', source: { root: ctx, ownership: 'reset', ignore },
 *                sources: ['src', '*.json'], chown: 'node', chmod: parseChmod('0644') });
 *   await add({ ..., sources: ['rootfs.tar.xz'] });   // extracts into dest
 *   await mkdirWorkdir(destRoot, '/srv/app', { user: 'node' });
 */
export { copy, add, destinationPath, type CopyOptions, type AddOptions, type CopyResult, type HeredocFile } from './copy.js';
export { mkdirWorkdir, type WorkdirOptions } from './workdir.js';
export { resolveOwner, type Owner } from './users.js';
export type { SourceSpec } from './source-view.js';
export type { XattrIO } from './copier.js';
export { detectArchive, extractArchive, type Compression } from './archive.js';
export { compileGoPattern, containsWildcards, type GoPattern } from './go-match.js';
export { resolveInRoot, cleanAbs } from './root-path.js';
export { resolveWildcards, splitWildcards } from './wildcards.js';
export { SourceView } from './source-view.js';
export { remoteKind, remoteSourceError, parseGitQuery, type RemoteKind, type RemoteCheck } from './remote.js';
