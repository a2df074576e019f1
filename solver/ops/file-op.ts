/** A file op (COPY, ADD, WORKDIR's mkdir): file changes written through a mounted view of the new snapshot. */
import { digestOf, MAIN_CONTEXT, type CacheMap, type ExecContext, type FileDescription, type Op } from '../core/index.js';
import { fileXattrs } from '../../snapshotter/index.js';
import { checksumPaths, EntryDigests } from './context/index.js';
import { specFields } from './key-fields.js';
import { contextXattrs } from './context-xattrs.js';
import type { LocalContext, OpStore } from './deps.js';
import { add, copy, mkdirWorkdir } from './file/index.js';
import { changeSnapshot, withView } from './mounted.js';
import type { PathMatcher } from './path-matcher.js';
import { materialize, type Ref } from './ref.js';

const byKey = (n: number) => Array.from({ length: n }, () => ({ by: 'key' as const }));

export interface FileOpDeps {
  readonly store: Pick<OpStore, 'snapshots' | 'tmpDir'>;
  readonly local: (name: string) => LocalContext;
}

export class FileOp implements Op<Ref> {
  readonly spec: unknown;
  constructor(
    private readonly deps: FileOpDeps,
    private readonly action: FileDescription,
  ) {
    // The key's encoding is the one earlier versions hashed (chmod as written): keep it byte for byte.
    if (action.action === 'mkdir') {
      this.spec = { kind: 'mkdir', path: action.path, user: action.user };
    } else {
      this.spec = {
        kind: action.action,
        sources: action.sources,
        heredocs: action.heredocs,
        dest: action.dest,
        workdir: action.workdir,
        chown: action.chown,
        chmod: action.chmod?.text,
        exclude: action.exclude,
        parents: action.parents,
        unpack: action.unpack,
        // 'context' only for the main context: a named one was keyed 'input', like a stage.
        from: action.from.kind === 'local' && action.from.name === MAIN_CONTEXT ? 'context' : 'input',
      };
    }
  }

  /** The local directory the copy reads, unless it reads an input. */
  private get local(): LocalContext | undefined {
    return this.action.action !== 'mkdir' && this.action.from.kind === 'local' ? this.deps.local(this.action.from.name) : undefined;
  }

  private get readsStage(): boolean {
    return this.action.action !== 'mkdir' && this.action.from.kind === 'input';
  }

  async cacheMap(cx: { signal: AbortSignal }): Promise<CacheMap<Ref>> {
    const local = this.local;
    if (this.action.action !== 'mkdir' && local !== undefined && this.action.sources.length > 0) {
      // What the step reads from the context is part of its key: exactly the selected paths.
      const entries = new EntryDigests();
      const sum = await checksumPaths(local.dir, this.action.sources, {
        followLinks: true,
        entries,
        exclude: this.action.exclude,
        xattrs: contextXattrs,
        ...(local.ignore === undefined ? {} : { matcher: local.ignore }),
        ...(local.statCache === undefined ? {} : { statCache: await local.statCache() }),
        signal: cx.signal,
      });
      return { opDigest: digestOf({ op: this.spec, context: sum }), inputs: byKey(1), explain: { fields: this.fields(), files: entries.result(sum) } };
    }
    return { opDigest: digestOf(this.spec), inputs: byKey(this.readsStage ? 2 : 1), explain: { fields: this.fields() } };
  }

  /** The spec as the fields of the key's explanation. */
  private fields(): Record<string, string> {
    return specFields(this.spec as Record<string, unknown>);
  }

  async execute(given: readonly Ref[], cx: ExecContext): Promise<Ref> {
    const { store } = this.deps;
    // The root written on, and a stage or image copied from, are read as files.
    const inputs = await Promise.all(given.map(materialize));
    const action = this.action;
    const root = inputs[0]!;
    const local = this.local;
    const snapshot = await changeSnapshot(store, root.snapshot, async (dest, upper) => {
      if (action.action === 'mkdir') {
        await mkdirWorkdir(dest, action.path, { user: action.user });
        return;
      }
      const run = async (sourceRoot: string, ownership: 'reset' | 'keep', ignore?: PathMatcher) => {
        const common = {
          destRoot: dest,
          dest: action.dest,
          workdir: action.workdir,
          source: { root: sourceRoot, ownership, ...(ignore === undefined ? {} : { ignore }) },
          sources: action.sources,
          heredocs: action.heredocs,
          ...(action.chown === undefined ? {} : { chown: action.chown }),
          ...(action.chmod === undefined ? {} : { chmod: action.chmod.mode }),
          exclude: action.exclude,
          link: action.link,
          // A stage's or image's files keep their extended attributes (file capabilities);
          // context files keep theirs as BuildKit's context transfer leaves them.
          xattrs: ownership === 'keep' ? fileXattrs : contextXattrs,
          // Upper-dir writes run after this callback: only for a source that outlives it (a
          // local directory; a stage's view is unmounted by then).
          ...(local !== undefined ? { upper } : {}),
          signal: cx.signal,
        };
        if (action.action === 'add') await add({ ...common, ...(action.unpack === undefined ? {} : { unpack: action.unpack }) });
        else await copy({ ...common, parents: action.parents });
      };
      if (local === undefined) await withView(store, inputs[1]!.snapshot, (src) => run(src, 'keep'));
      else await run(local.dir, 'reset', local.ignore);
    });
    return { snapshot };
  }
}
