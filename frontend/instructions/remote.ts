/** COPY/ADD sources that are not paths: URLs and git repositories, told apart as BuildKit does. */

/** 'url' or 'git' for sources BuildKit fetches; undefined for local paths. */
export function remoteKind(src: string): 'url' | 'git' | undefined {
  if (/^git@[^:/]+:/.test(src) || /^(git|ssh):\/\//i.test(src)) return 'git';
  const http = /^https?:\/\//i.exec(src);
  if (http === null) return undefined;
  const path = src.slice(http[0].length).split(/[?#]/)[0] ?? '';
  return path.endsWith('.git') ? 'git' : 'url';
}
