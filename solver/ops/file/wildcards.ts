/**
 * Expanding a COPY/ADD source with wildcards as BuildKit (fsutil's ResolveWildcards) does:
 * the components before the first one with a wildcard are resolved inside the root
 * (following symlinks), then the tree below is walked in name order and every entry whose
 * relative path matches the rest is a match; a matched directory is not searched further.
 * A name that is not UTF-8 is matched byte-escaped (tarfs/byte-names.ts): each such
 * byte is one character, as Go's filepath.Match takes it for one rune.
 */
import { byteOrder, readdirEntries } from '../../../tarfs/index.js';
import { compileGoPattern, containsWildcards } from './go-match.js';
import { cleanComponents, lstatOrUndefined, resolveInRoot } from './root-path.js';
import type { SourceView } from './source-view.js';

/** `[prefix, rest]`: the components before the first with a wildcard, and the others. */
export function splitWildcards(path: string): [string[], string[]] {
  const parts = cleanComponents(path);
  const at = parts.findIndex(containsWildcards);
  return at < 0 ? [parts, []] : [parts.slice(0, at), parts.slice(at)];
}

export type WildcardResult =
  | { readonly kind: 'plain'; readonly path: string }
  | { readonly kind: 'matches'; readonly paths: readonly string[] }
  /** The part before the wildcard does not exist (fsutil fails to walk it). */
  | { readonly kind: 'missing-base'; readonly base: string };

/**
 * Expand `pattern` (root-relative or absolute) in `view`. A pattern without wildcards comes
 * back as it is ('plain'); matches are clean root-relative paths with the prefix resolved.
 */
export async function resolveWildcards(view: SourceView, pattern: string, followLinks: boolean): Promise<WildcardResult> {
  const [prefix, rest] = splitWildcards(pattern);
  if (rest.length === 0) return { kind: 'plain', path: prefix.join('/') };
  const tests = rest.map(compileGoPattern); // validates the whole pattern first, as Go does
  const base = await resolveInRoot(view.root, prefix.join('/'), { followFinal: followLinks, visible: view.visible });
  const st = await lstatOrUndefined(view.abs(base));
  if (st === undefined || !(await view.visible(base, st.isDirectory()))) {
    return { kind: 'missing-base', base: '/' + prefix.join('/') };
  }
  const out: string[] = [];
  if (!st.isDirectory()) return { kind: 'matches', paths: out };

  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = readdirEntries(view.abs(dir)).sort((a, b) => byteOrder(a.name, b.name));
    for (const entry of entries) {
      if (!tests[depth]!.test(entry.name)) continue;
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (!(await view.visible(rel, entry.isDirectory()))) continue;
      if (depth === tests.length - 1) out.push(rel);
      else if (entry.isDirectory()) await walk(rel, depth + 1);
    }
  };
  await walk(base, 0);
  return { kind: 'matches', paths: out };
}
