/**
 * From a build plan to a graph of neutral op descriptions (solver/core): one node per step
 * that changes the filesystem (RUN, COPY, ADD, WORKDIR), on top of its stage's base (scratch,
 * an image, another stage or a build context), plus the history entry of every step. Flags are
 * parsed here (chmod, the RUN command's form): the ops receive plain data. Node names follow
 * BuildKit's `[stage 2/5] RUN …` so that progress reads the same.
 */
import { BuildError, type SourceRange } from '../../errors/index.js';
import { MAIN_CONTEXT, type DataSource, type ExecMount, type OpNode } from '../../solver/core/index.js';
import { parseChmod, planRunCommand } from '../instructions/index.js';
import { formatPlatform, type Platform } from '../stages/index.js';
import type { BuildPlan, PlannedMount, PlannedStage, SourceRef, Step } from '../stages/types.js';
import { historyFor } from './history.js';
import { remoteSourceError } from '../../solver/ops/index.js';

export interface StageGraph {
  readonly stage: PlannedStage;
  /** The node whose result is the stage's filesystem. */
  readonly top: OpNode;
  /** This stage's own history entries (the base's come from its image or stage). */
  readonly history: readonly { readonly createdBy: string; readonly layer: boolean }[];
  /**
   * The nodes of the stage's RUN, COPY and ADD steps: what `--no-cache-filter` names the
   * stage for (BuildKit marks exactly these; the steps after them follow as dependents).
   */
  readonly cacheableSteps: readonly OpNode[];
}

export interface BuildGraph {
  readonly stages: ReadonlyMap<number, StageGraph>;
  readonly target: StageGraph;
}

/** What a `--build-context` is, as far as the graph cares. */
export type NamedContextKind = 'local' | 'image' | 'scratch';

/** What the graph needs to know of the build beyond its plan. */
export interface GraphOptions {
  /** --network: what RUN's `default` means. */
  readonly network: 'default' | 'none' | 'host';
  /** --allow. */
  readonly entitlements?: ReadonlySet<string>;
  /** The kind and label of each `--build-context` by key (the label names an image one). */
  readonly named?: ReadonlyMap<string, { readonly kind: NamedContextKind; readonly label?: string }>;
  /** Throws when a RUN for `platform` cannot run on this machine (checked before anything runs). */
  readonly checkRunnable?: (platform: Platform, range: SourceRange) => void;
}

export function buildGraph(plan: BuildPlan, opts: GraphOptions): BuildGraph {
  const images = new Map<string, OpNode>();
  const imageNode = (ref: string): OpNode => {
    let v = images.get(ref);
    if (v === undefined) {
      v = { op: { kind: 'source', source: 'image', ref }, inputs: [], meta: { name: `[internal] load image ${ref}`, internal: false } };
      images.set(ref, v);
    }
    return v;
  };
  const scratch: OpNode = { op: { kind: 'source', source: 'scratch' }, inputs: [], meta: { name: 'scratch', internal: true } };
  const namedNodes = new Map<string, OpNode>();
  const namedOf = (key: string) => {
    const named = opts.named?.get(key);
    if (named === undefined) throw new Error(`internal: no build context named ${key}`);
    return named;
  };
  /** A build context as a filesystem (FROM it, or a RUN mount / COPY of a context that is an image). */
  const namedNode = (key: string): OpNode => {
    let v = namedNodes.get(key);
    if (v !== undefined) return v;
    const named = namedOf(key);
    switch (named.kind) {
      case 'scratch':
        v = scratch;
        break;
      case 'image': {
        const label = named.label ?? key;
        v = { op: { kind: 'source', source: 'image', ref: label, context: key }, inputs: [], meta: { name: `[context ${key}] ${label}`, internal: false } };
        break;
      }
      case 'local':
        v = { op: { kind: 'source', source: 'local', name: key }, inputs: [], meta: { name: `[context ${key}] load from client`, internal: false } };
        break;
    }
    namedNodes.set(key, v);
    return v;
  };
  /** The local directory a COPY or RUN mount reads in place, by name, if it reads one. */
  const localName = (ref: SourceRef | undefined): string | undefined => {
    if (ref === undefined || ref.kind === 'context') return MAIN_CONTEXT;
    if (ref.kind !== 'named') return undefined;
    return namedOf(ref.name).kind === 'local' ? ref.name : undefined;
  };
  const stages = new Map<number, StageGraph>();
  /** Each stage's platform: its FROM --platform, its base stage's, else the target's (as BuildKit). */
  const platforms = new Map<number, Platform>();

  const source = (ref: SourceRef): OpNode => {
    switch (ref.kind) {
      case 'stage': {
        const s = stages.get(ref.stage);
        if (s === undefined) throw new Error(`stage ${ref.stage} used before it was planned`);
        return s.top;
      }
      case 'image':
        return imageNode(ref.ref);
      case 'named':
        return namedNode(ref.name);
      case 'scratch':
      case 'context':
        return scratch;
    }
  };
  /**
   * What a bind or cache mount reads: an input (a stage, an image, a named context that is an
   * image), a local directory in place, or nothing (a cache without from=).
   */
  const mountSource = (m: PlannedMount): DataSource => {
    if (m.mount.type !== 'bind' && m.mount.type !== 'cache') return { kind: 'none' };
    if (m.source.kind === 'stage' || m.source.kind === 'image') return { kind: 'input' };
    if (m.source.kind === 'scratch') return { kind: 'none' };
    const local = localName(m.source);
    return local === undefined ? { kind: 'input' } : { kind: 'local', name: local };
  };

  for (const stage of plan.stages) {
    const platform = stage.platform ?? (stage.base.kind === 'stage' ? platforms.get(stage.base.stage) : undefined) ?? plan.targetPlatform;
    platforms.set(stage.index, platform);
    const platformName = formatPlatform(platform);
    const label = plan.namesWithStage ? `${stage.name ?? `stage-${stage.index}`} ` : '';
    // BuildKit's count: the FROM of an image, every RUN, COPY, ADD and WORKDIR (even one that
    // makes no vertex), and every ONBUILD trigger of the base, whatever it is.
    const fromSource = stage.base.kind === 'image' || stage.base.kind === 'named' ? 1 : 0;
    const total = fromSource + stage.steps.filter((s) => s.onbuild || countsAsStep(s)).length;
    const width = String(total).length;
    let n = fromSource;
    let top: OpNode;
    switch (stage.base.kind) {
      case 'scratch':
        top = scratch;
        break;
      case 'image':
        top = imageNode(stage.base.ref);
        break;
      case 'stage':
        top = source({ kind: 'stage', stage: stage.base.stage });
        break;
      case 'named':
        top = namedNode(stage.base.name);
        break;
    }
    const history: { createdBy: string; layer: boolean }[] = [];
    const cacheableSteps: OpNode[] = [];
    const seen = new Map<string, number>();
    for (const step of stage.steps) {
      const name = () => `[${label}${String(++n).padStart(width)}/${total}] ${step.onbuild ? 'ONBUILD ' : ''}${step.title ?? step.instruction.original}`;
      const meta = () => ({ name: name(), origin: step.instruction.range, ...stepIdentity(stage, step, seen) });
      const ins = step.instruction;
      let runArgs: readonly string[] | undefined;
      if (ins.kind === 'run') {
        const planned = planRunCommand(ins, plan.targetPlatform.os);
        if ('error' in planned) throw new BuildError('BAD_INSTRUCTION', planned.error, { range: ins.range });
        runArgs = ins.prependShell ? [...step.shell, ...planned.args] : [...planned.args];
        const script = planned.kind === 'script' ? { name: planned.name, data: planned.data } : undefined;
        if (ins.security === 'insecure' && opts.entitlements?.has('security.insecure') !== true) {
          // BuildKit's words, checked before anything runs.
          throw new BuildError('ENTITLEMENT_NOT_ALLOWED', 'security.insecure is not allowed', {
            range: ins.range,
            hint: 'RUN --security=insecure needs --allow security.insecure',
          });
        }
        const network = ins.network === 'default' ? opts.network : ins.network;
        if (network === 'host' && opts.entitlements?.has('network.host') !== true) {
          // BuildKit's words, checked before anything runs, for the flag as for the step's own.
          throw new BuildError('ENTITLEMENT_NOT_ALLOWED', 'network.host is not allowed', {
            range: ins.range,
            hint: ins.network === 'host' ? 'RUN --network=host needs --allow network.host' : '--network host needs --allow network.host',
          });
        }
        opts.checkRunnable?.(platform, ins.range);
        const plannedMounts = step.mounts ?? [];
        const mounts: ExecMount[] = plannedMounts.map((m) => ({ mount: m.mount, source: mountSource(m) }));
        // Inputs after the root: the stages and images that bind and cache mounts read, in mount order.
        const mountInputs = plannedMounts.filter((_, i) => mounts[i]!.source.kind === 'input').map((m) => source(m.source));
        top = {
          op: {
            kind: 'exec',
            args: runArgs,
            env: step.env,
            cwd: step.workdir,
            user: step.user,
            network,
            security: ins.security,
            mounts,
            ...(script === undefined ? {} : { script }),
          },
          platform: platformName,
          inputs: [top, ...mountInputs],
          meta: meta(),
        };
        cacheableSteps.push(top);
      } else if (ins.kind === 'copy' || ins.kind === 'add') {
        // URL and git sources fail here, before any step runs, at their instruction.
        const remote = remoteSourceError(ins.sources, {
          instruction: ins.kind === 'copy' ? 'COPY' : 'ADD',
          ...(ins.kind === 'add' && ins.keepGitDir !== undefined ? { keepGitDir: ins.keepGitDir } : {}),
          ...(ins.kind === 'add' && ins.checksum !== undefined ? { checksum: ins.checksum } : {}),
        });
        if (remote !== undefined) throw remote.at(ins.range);
        const from = step.from;
        // A local directory (the context, or a named one) is read directly, never as an input.
        const local = localName(from);
        const inputs = local === undefined ? [top, source(from!)] : [top];
        top = {
          op: {
            kind: 'file',
            action: ins.kind,
            sources: ins.sources,
            heredocs: ins.heredocSources.map((h) => ({ path: h.path, data: h.data })),
            dest: ins.dest,
            workdir: step.workdir,
            ...(ins.chown === undefined ? {} : { chown: ins.chown }),
            ...(ins.chmod === undefined ? {} : { chmod: { text: ins.chmod, mode: parseChmod(ins.chmod, ins.range) } }),
            exclude: ins.exclude,
            parents: ins.kind === 'copy' ? ins.parents : false,
            link: ins.link,
            ...(ins.kind === 'add' && ins.unpack !== undefined ? { unpack: ins.unpack } : {}),
            from: local === undefined ? { kind: 'input' } : { kind: 'local', name: local },
          },
          platform: platformName,
          inputs,
          meta: meta(),
        };
        cacheableSteps.push(top);
      } else if (ins.kind === 'workdir' && ins.path !== '/') {
        top = { op: { kind: 'file', action: 'mkdir', path: ins.path, user: step.user }, platform: platformName, inputs: [top], meta: meta() };
      }
      const h = historyFor(step, runArgs);
      if (h !== undefined) history.push(h);
    }
    stages.set(stage.index, { stage, top, history, cacheableSteps });
  }
  const target = stages.get(plan.target);
  if (target === undefined) throw new Error('the target stage is not in the plan');
  return { stages, target };
}

/**
 * Who a step is across builds, whatever its inputs and its place in the count (a step added
 * above it renumbers it): its stage and its instruction as written, the second of two alike
 * marked so. And the build args in its scope, which a miss names as such.
 */
function stepIdentity(stage: PlannedStage, step: Step, seen: Map<string, number>): { step: string; buildArgs?: readonly string[] } {
  const text = `${stage.name ?? `stage-${stage.index}`}: ${step.onbuild ? 'ONBUILD ' : ''}${step.instruction.original}`;
  const count = (seen.get(text) ?? 0) + 1;
  seen.set(text, count);
  const args = [...new Set(step.args.map((a) => a.key))];
  return { step: count === 1 ? text : `${text} (#${count})`, ...(args.length === 0 ? {} : { buildArgs: args }) };
}

function countsAsStep(step: Step): boolean {
  const k = step.instruction.kind;
  return k === 'run' || k === 'copy' || k === 'add' || k === 'workdir';
}
