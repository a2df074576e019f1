/**
 * From a build plan to the solver's graph: one vertex per step that changes the filesystem
 * (RUN, COPY, ADD, WORKDIR), on top of its stage's base (scratch, a local image, or another
 * stage), plus the history entry of every step. Vertex names follow BuildKit's
 * `[stage 2/5] RUN …` so that progress reads the same.
 */
import { BuildError, type SourceRange } from '../../errors/index.js';
import { binfmtEntries, emulatorFor } from '../../executor/index.js';
import { formatPlatform, hostPlatform, type Platform } from '../../frontend/index.js';
import { planRunCommand } from '../../frontend/instructions/index.js';
import type { BuildPlan, PlannedStage, SourceRef, Step } from '../../frontend/stages/types.js';
import { vertex, type Op, type Vertex } from '../core/index.js';
import { remoteSourceError } from './file/remote.js';
import { historyFor } from './history.js';
import { ExecOp, FileOp, LocalDirOp, LocalImageOp, ScratchOp, localContextOf, type OpEnv } from './ops.js';
import { OnPlatform } from './platform-op.js';
import type { Ref } from './ref.js';

export interface StageGraph {
  readonly stage: PlannedStage;
  /** The vertex whose result is the stage's filesystem. */
  readonly top: Vertex<Ref>;
  /** This stage's own history entries (the base's come from its image or stage). */
  readonly history: readonly { readonly createdBy: string; readonly layer: boolean }[];
  /**
   * The vertices of the stage's RUN, COPY and ADD steps: what `--no-cache-filter` names the
   * stage for (BuildKit marks exactly these; the steps after them follow as dependents).
   */
  readonly cacheableSteps: readonly Vertex<Ref>[];
}

export interface BuildGraph {
  readonly stages: ReadonlyMap<number, StageGraph>;
  readonly target: StageGraph;
}

export function buildGraph(plan: BuildPlan, env: OpEnv): BuildGraph {
  const images = new Map<string, Vertex<Ref>>();
  const imageVertex = (ref: string): Vertex<Ref> => {
    let v = images.get(ref);
    if (v === undefined) {
      v = vertex<Ref>(new LocalImageOp(env, ref), [], { name: `[internal] load image ${ref}`, internal: false });
      images.set(ref, v);
    }
    return v;
  };
  const scratch = vertex<Ref>(new ScratchOp(), [], { name: 'scratch', internal: true });
  const namedVertices = new Map<string, Vertex<Ref>>();
  /** A build context as a filesystem (FROM it, or a RUN mount / COPY of a context that is an image). */
  const namedVertex = (key: string): Vertex<Ref> => {
    let v = namedVertices.get(key);
    if (v !== undefined) return v;
    const named = env.named?.get(key);
    if (named === undefined) throw new Error(`internal: no build context named ${key}`);
    switch (named.kind) {
      case 'scratch':
        v = scratch;
        break;
      case 'image':
        v = vertex<Ref>(new LocalImageOp(env, named.label, named.resolve), [], { name: `[context ${key}] ${named.label}`, internal: false });
        break;
      case 'local':
        v = vertex<Ref>(new LocalDirOp(env, named.context), [], { name: `[context ${key}] load from client`, internal: false });
        break;
    }
    namedVertices.set(key, v);
    return v;
  };
  const stages = new Map<number, StageGraph>();
  /** Each stage's platform: its FROM --platform, its base stage's, else the target's (as BuildKit). */
  const platforms = new Map<number, Platform>();

  const source = (ref: SourceRef): Vertex<Ref> => {
    switch (ref.kind) {
      case 'stage': {
        const s = stages.get(ref.stage);
        if (s === undefined) throw new Error(`stage ${ref.stage} used before it was planned`);
        return s.top;
      }
      case 'image':
        return imageVertex(ref.ref);
      case 'named':
        return namedVertex(ref.name);
      case 'scratch':
      case 'context':
        return scratch;
    }
  };

  for (const stage of plan.stages) {
    const platform = stage.platform ?? (stage.base.kind === 'stage' ? platforms.get(stage.base.stage) : undefined) ?? plan.targetPlatform;
    platforms.set(stage.index, platform);
    const forPlatform = (op: Op<Ref>): Op<Ref> => new OnPlatform(op, formatPlatform(platform));
    const label = plan.namesWithStage ? `${stage.name ?? `stage-${stage.index}`} ` : '';
    // BuildKit's count: the FROM of an image, every RUN, COPY, ADD and WORKDIR (even one that
    // makes no vertex), and every ONBUILD trigger of the base, whatever it is.
    const fromSource = stage.base.kind === 'image' || stage.base.kind === 'named' ? 1 : 0;
    const total = fromSource + stage.steps.filter((s) => s.onbuild || countsAsStep(s)).length;
    const width = String(total).length;
    let n = fromSource;
    let top: Vertex<Ref>;
    switch (stage.base.kind) {
      case 'scratch':
        top = scratch;
        break;
      case 'image':
        top = imageVertex(stage.base.ref);
        break;
      case 'stage':
        top = source({ kind: 'stage', stage: stage.base.stage });
        break;
      case 'named':
        top = namedVertex(stage.base.name);
        break;
    }
    const history: { createdBy: string; layer: boolean }[] = [];
    const cacheableSteps: Vertex<Ref>[] = [];
    for (const step of stage.steps) {
      const name = () => `[${label}${String(++n).padStart(width)}/${total}] ${step.onbuild ? 'ONBUILD ' : ''}${step.title ?? step.instruction.original}`;
      const meta = (extra: object = {}) => ({ name: name(), origin: step.instruction.range, ...extra });
      const ins = step.instruction;
      let runArgs: readonly string[] | undefined;
      if (ins.kind === 'run') {
        const planned = planRunCommand(ins, plan.targetPlatform.os);
        if ('error' in planned) throw new BuildError('BAD_INSTRUCTION', planned.error, { range: ins.range });
        runArgs = ins.prependShell ? [...step.shell, ...planned.args] : [...planned.args];
        const script = planned.kind === 'script' ? { name: planned.name, data: planned.data } : undefined;
        if (ins.security === 'insecure' && env.entitlements?.has('security.insecure') !== true) {
          // BuildKit's words, checked before anything runs.
          throw new BuildError('ENTITLEMENT_NOT_ALLOWED', 'security.insecure is not allowed', {
            range: ins.range,
            hint: 'RUN --security=insecure needs --allow security.insecure',
          });
        }
        const network = ins.network === 'default' ? env.network : ins.network;
        if (network === 'host' && env.entitlements?.has('network.host') !== true) {
          // BuildKit's words, checked before anything runs, for the flag as for the step's own.
          throw new BuildError('ENTITLEMENT_NOT_ALLOWED', 'network.host is not allowed', {
            range: ins.range,
            hint: ins.network === 'host' ? 'RUN --network=host needs --allow network.host' : '--network host needs --allow network.host',
          });
        }
        checkRunnable(platform, ins.range);
        const mountInputs = ExecOp.mountSources(env, step.mounts ?? []).map(source);
        top = vertex<Ref>(
          forPlatform(new ExecOp(env, {
            args: runArgs,
            env: step.env,
            cwd: step.workdir,
            user: step.user,
            network,
            security: ins.security,
            mounts: step.mounts ?? [],
            ...(script === undefined ? {} : { script }),
          })),
          [top, ...mountInputs],
          meta(),
        );
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
        const inputs = localContextOf(env, from) === undefined ? [top, source(from!)] : [top];
        top = vertex<Ref>(forPlatform(new FileOp(env, { kind: 'copy', instruction: ins, workdir: step.workdir, from })), inputs, meta());
        cacheableSteps.push(top);
      } else if (ins.kind === 'workdir' && ins.path !== '/') {
        top = vertex<Ref>(forPlatform(new FileOp(env, { kind: 'mkdir', path: ins.path, user: step.user })), [top], meta());
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

function countsAsStep(step: Step): boolean {
  const k = step.instruction.kind;
  return k === 'run' || k === 'copy' || k === 'add' || k === 'workdir';
}

/**
 * A RUN executes the image's binaries: on this machine's own architecture, or through a
 * binfmt_misc emulator the kernel applies by itself (executor/emulation.ts). Anything else
 * would run host binaries under another platform's name, or fail obscurely: refused before
 * any step runs.
 */
function checkRunnable(platform: Platform, range: SourceRange): void {
  const host = hostPlatform();
  if (platform.os !== host.os) {
    throw new BuildError('NOT_SUPPORTED', `not supported yet: RUN for ${formatPlatform(platform)} on this ${formatPlatform(host)} machine`, { range });
  }
  if (platform.architecture === host.architecture || emulatorFor(platform.architecture, binfmtEntries()) !== undefined) return;
  throw new BuildError('NOT_SUPPORTED', `not supported yet: RUN for ${formatPlatform(platform)} on this ${formatPlatform(host)} machine without an emulator`, {
    range,
    hint:
      `register a binfmt_misc emulator for ${platform.architecture} with the F flag (e.g. Debian's qemu-user-static), ` +
      `run this step on the build platform (FROM --platform=$BUILDPLATFORM), or build for ${formatPlatform(host)}`,
  });
}
