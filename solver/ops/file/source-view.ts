/**
 * What a COPY/ADD reads from: a directory seen as a root, and what of it is visible. For the
 * build context that is what BuildKit's context transfer would have sent: `.dockerignore`d
 * paths are absent (an excluded directory is present only when something below it is kept),
 * and every owner is reset to 0:0, as the BuildKit client does before sending.
 */
import type { MatcherDir, PathMatcher } from '../path-matcher.js';
import { readdirNames } from '../../../tarfs/index.js';
import { cleanComponents, hostPath, lstatOrUndefined } from './root-path.js';

export interface SourceSpec {
  /** The directory read as `/`: the build context, or another stage's or image's merged view. */
  readonly root: string;
  /** 'reset': owners become 0:0 unless --chown (the build context); 'keep': owners are copied (stages, images). */
  readonly ownership: 'reset' | 'keep';
  /** The context's .dockerignore; paths it excludes do not exist for the copy. */
  readonly ignore?: PathMatcher;
}

export class SourceView {
  readonly root: string;
  readonly ownership: 'reset' | 'keep';
  readonly ignore: PathMatcher | undefined;
  private readonly presentDirs = new Map<string, boolean>();

  constructor(spec: SourceSpec) {
    this.root = spec.root;
    this.ownership = spec.ownership;
    this.ignore = spec.ignore;
  }

  abs(rel: string): string {
    return hostPath(this.root, rel);
  }

  /** Is the existing entry `rel` (clean, root-relative) part of the view? */
  readonly visible = async (rel: string, isDir: boolean): Promise<boolean> => {
    const ignore = this.ignore;
    if (ignore === undefined || rel === '' || !ignore.matches(rel)) return true;
    if (!isDir) return false;
    return this.dirHasVisibleEntry(rel);
  };

  /** The ignore state of directory `rel`, built from the root down (for walkers). */
  dirState(rel: string): MatcherDir | undefined {
    const ignore = this.ignore;
    if (ignore === undefined) return undefined;
    let state: MatcherDir | undefined;
    let path = '';
    for (const c of cleanComponents(rel)) {
      path = path === '' ? c : `${path}/${c}`;
      state = ignore.enterDir(path, state);
    }
    return state;
  }

  /** An excluded directory is still sent when an exception keeps something below it. */
  private async dirHasVisibleEntry(rel: string): Promise<boolean> {
    const known = this.presentDirs.get(rel);
    if (known !== undefined) return known;
    const ignore = this.ignore!;
    let found = false;
    if (ignore.dirVerdict(rel) !== 'excluded-subtree') {
      let names: string[] = [];
      try {
        names = readdirNames(this.abs(rel));
      } catch {
        // unreadable: nothing visible below
      }
      for (const name of names) {
        const child = `${rel}/${name}`;
        if (!ignore.matches(child)) {
          found = true;
          break;
        }
        const st = await lstatOrUndefined(this.abs(child));
        if (st?.isDirectory() && (await this.dirHasVisibleEntry(child))) {
          found = true;
          break;
        }
      }
    }
    this.presentDirs.set(rel, found);
    return found;
  }
}
