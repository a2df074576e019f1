/**
 * From typed instructions to a build plan, with BuildKit's rules: global ARGs (usable in FROM,
 * and in a stage only when declared there again), build-arg overrides, the automatic platform
 * args, per-stage ARG and ENV scope, variable expansion in exactly the instructions BuildKit
 * expands, stage references by name or index, --target and the pruning of unneeded stages,
 * ONBUILD triggers of the base, and the image config each stage ends with.
 *
 * Why one file: ARG/ENV scope, expansion and stage references are one pass over the stages in
 * BuildKit's order; the instruction-specific parts are already in their own modules.
 */
import posix from 'node:path/posix';
import { BuildError, didYouMean, type SourceRange } from '../../errors/index.js';
import type { DockerfileAST, InstructionNode } from '../parser/ast.js';
import { parseDockerfile } from '../parser/parse.js';
import { Lex, type EnvLookup } from '../shell/index.js';
import { exposedPortKeys, parseExposePort, parseInstruction, parseRunMount, remoteKind } from '../instructions/index.js';
import type { ArgInstruction, FromInstruction, Instruction, KeyValue } from '../instructions/types.js';
import { DEFAULT_PATH, DEFAULT_SHELL, isProxyArg, lookupOf, NON_ENV_ARGS, proxyEnvOf, setEnv, setEnvLast, splitEnv } from './env.js';
import { formatPlatform, hostPlatform, parsePlatform, type Platform } from './platform.js';
import { stepTitle } from './title.js';
import { CHECK_BUILD_ARG, Linter, checkOptionsFor } from '../checks/index.js';
import type { BuildPlan, ImageConfig, ImageMeta, PlannedMount, PlannedStage, PlanWarning, SourceRef, StageBase, Step, StepArg } from './types.js';

export interface ConvertOptions {
  /** `--target`: the stage to build (default: the last). */
  readonly target?: string;
  /** `--build-arg` values (a bare `K` already resolved from the environment by the caller). */
  readonly buildArgs?: ReadonlyMap<string, string>;
  readonly buildPlatform?: Platform;
  /** `--platform` (default: the build platform). */
  readonly targetPlatform?: Platform;
  /**
   * The config and author of a base image, from the local store or a registry; undefined for
   * an image with an empty config. The frontend itself never touches a disk or the network.
   */
  readonly resolveImage?: (ref: string, platform: Platform) => Promise<ImageMeta | undefined>;
  /** The `--build-context`s of the build, if any. */
  readonly namedContexts?: NamedContextLookup;
}

/**
 * How the frontend sees `--build-context`s, as BuildKit's Dockerfile frontend does: a stage
 * whose name has a context is replaced by it (its instructions never run); a FROM,
 * `COPY --from` or `RUN --mount from=` that names no stage but a context reads the context
 * instead of an image.
 */
export interface NamedContextLookup {
  /** The key of the context a name selects (a stage name, or a reference as written), if any. */
  match(name: string): string | undefined;
  /** The image config and author of a context that is an image; undefined for a directory. */
  image(key: string, platform: Platform): Promise<ImageMeta | undefined>;
}

interface StageDecl {
  readonly index: number;
  readonly from: FromInstruction;
  readonly instructions: readonly Instruction[];
}

/** A reference from one stage to another, found before anything is expanded. */
function isExpandable(word: string, lex: Lex): boolean {
  return lex.processWord(word, []) !== word;
}

function located(e: unknown, range: SourceRange): never {
  if (e instanceof BuildError) throw e.range === undefined ? e.at(range) : e;
  throw e;
}

export function splitStages(instructions: readonly Instruction[]): { meta: ArgInstruction[]; stages: StageDecl[] } {
  const meta: ArgInstruction[] = [];
  const stages: { index: number; from: FromInstruction; instructions: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.kind === 'from') {
      stages.push({ index: stages.length, from: ins, instructions: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (current !== undefined) current.instructions.push(ins);
    else if (ins.kind === 'arg') meta.push(ins);
    else {
      throw new BuildError('BAD_STAGE', 'no build stage in current context', {
        range: ins.keywordRange,
        hint: 'only ARG may come before the first FROM',
      });
    }
  }
  if (stages.length === 0) {
    throw new BuildError('BAD_STAGE', 'dockerfile contains no stages to build', { hint: 'add a FROM instruction' });
  }
  const seen = new Map<string, StageDecl>();
  for (const s of stages) {
    const name = s.from.stageName;
    if (name === undefined) continue;
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw new BuildError('BAD_STAGE', `duplicate stage name "${name}"`, {
        range: s.from.range,
        hint: `stage "${name}" is already defined at line ${prev.from.range.start.line}; give this stage another name`,
      });
    }
    seen.set(name, s);
  }
  return { meta, stages };
}

function platformArgs(build: Platform, target: Platform, targetStage: string): [string, string][] {
  return [
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDOSVERSION', ''],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETOSVERSION', ''],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['TARGETSTAGE', targetStage],
  ];
}

class Converter {
  private readonly lex: Lex;
  private readonly rawLex = new Lex('\\', { skipProcessQuotes: true });
  private readonly buildArgs: ReadonlyMap<string, string>;
  /** ARG names any reached stage or the global scope declared: consumed build args. */
  private readonly declared = new Set<string>();
  private globalArgs = new Map<string, string>();
  private readonly byName = new Map<string, StageDecl>();
  private readonly done = new Map<number, PlannedStage>();
  /** Each planned stage's environment and ARGs after its last step: a stage FROM it starts there. */
  private readonly finalScope = new Map<number, { readonly vars: readonly string[]; readonly args: readonly StepArg[] }>();
  /** Stages replaced by a build context of their name: index → context key. */
  private readonly replaced = new Map<number, string>();
  readonly buildPlatform: Platform;
  readonly targetPlatform: Platform;

  constructor(
    ast: DockerfileAST,
    private readonly stages: readonly StageDecl[],
    private readonly opts: ConvertOptions,
    private readonly warnings: PlanWarning[],
  ) {
    this.lex = new Lex(ast.escape);
    this.buildArgs = opts.buildArgs ?? new Map();
    this.buildPlatform = opts.buildPlatform ?? hostPlatform();
    this.targetPlatform = opts.targetPlatform ?? this.buildPlatform;
    for (const s of stages) {
      if (s.from.stageName === undefined) continue;
      this.byName.set(s.from.stageName, s);
      const key = opts.namedContexts?.match(s.from.stageName);
      if (key !== undefined) this.replaced.set(s.index, key);
    }
  }

  /** A name that is no stage: a build context when one has that name, else an image. */
  private imageOrContext(word: string): SourceRef & StageBase {
    const key = this.opts.namedContexts?.match(word);
    return key === undefined ? { kind: 'image', ref: word } : { kind: 'named', name: key };
  }

  /** BuildKit's meta-arg pass: platform args, then the global ARGs in order. */
  initGlobalArgs(meta: readonly ArgInstruction[], targetStage: string): void {
    const args = new Map<string, string>();
    for (const [k, v] of platformArgs(this.buildPlatform, this.targetPlatform, targetStage)) {
      args.set(k, this.buildArgs.get(k) ?? v);
    }
    for (const ins of meta) {
      for (const a of ins.args) {
        this.declared.add(a.key);
        const given = this.buildArgs.get(a.key);
        let value = given;
        if (value === undefined && a.value !== undefined) {
          try {
            value = this.lex.processWord(a.value, args);
          } catch (e) {
            located(e, ins.range);
          }
        }
        if (value !== undefined) {
          args.delete(a.key); // re-added last, as an appended entry
          args.set(a.key, value);
        }
      }
    }
    this.globalArgs = args;
  }

  /** Which stage a name or index names, or undefined for an image. */
  private stageRef(word: string, from: number, range: SourceRange, byIndex: boolean): SourceRef {
    let target: StageDecl | undefined;
    if (byIndex && /^[+-]?\d+$/.test(word)) {
      const n = Number(word);
      target = this.stages[n];
      if (target === undefined || n < 0) {
        throw new BuildError('UNKNOWN_STAGE', `invalid stage index ${n}`, {
          range,
          hint: `this Dockerfile has stages 0 to ${this.stages.length - 1}`,
        });
      }
    } else {
      target = this.byName.get(word.toLowerCase());
    }
    if (target === undefined) return this.imageOrContext(word);
    if (target.index === from) {
      throw new BuildError('BAD_STAGE', `circular dependency detected on stage: ${word}`, { range });
    }
    // A stage replaced by a build context is never built: what uses it reads the context.
    const replacement = this.replaced.get(target.index);
    if (replacement !== undefined) return { kind: 'named', name: replacement };
    if (target.index > from) {
      // BuildKit would build a later stage first; tsbuild requires stages to be defined
      // before they are used, so that the file reads top to bottom.
      throw new BuildError('BAD_STAGE', `stage "${word}" is used before it is defined`, {
        range,
        hint: `move stage "${word}" (line ${target.from.range.start.line}) above this instruction`,
      });
    }
    return { kind: 'stage', stage: target.index };
  }

  /** The base of a stage: its FROM expanded with the global args. */
  base(s: StageDecl): { base: StageBase; platform?: Platform } {
    const from = s.from;
    let name: string;
    try {
      name = this.lex.processWord(from.image, this.globalArgs);
    } catch (e) {
      return located(e, from.range);
    }
    if (name === '') {
      throw new BuildError('BAD_STAGE', `base name (${from.image}) should not be blank`, {
        range: from.range,
        hint: 'give the ARG used in FROM a default value or pass it with --build-arg',
      });
    }
    let platform: Platform | undefined;
    if (from.platform !== undefined) {
      let p: string;
      try {
        p = this.lex.processWord(from.platform, this.globalArgs);
      } catch (e) {
        return located(e, from.range);
      }
      if (p === '') {
        throw new BuildError('BAD_PLATFORM', `empty platform value from expression ${from.platform}`, { range: from.range });
      }
      try {
        platform = parsePlatform(p);
      } catch (e) {
        located(e, from.range);
      }
    }
    const withPlatform = <T extends object>(b: T) => (platform === undefined ? b : { ...b, platform });
    if (name === 'scratch') return withPlatform({ base: { kind: 'scratch' } as StageBase });
    // FROM names an earlier stage only by its exact (lower-case) name.
    const stage = this.byName.get(name);
    if (stage !== undefined) {
      const ref = this.stageRef(name, s.index, from.range, false);
      if (ref.kind === 'stage' || ref.kind === 'named') return withPlatform({ base: ref as StageBase });
    }
    return withPlatform({ base: this.imageOrContext(name) as StageBase });
  }

  /** Stage indexes a stage needs, found before expansion as BuildKit does. */
  dependencies(s: StageDecl, base: StageBase, extra: readonly Instruction[]): number[] {
    const deps = new Set<number>();
    if (base.kind === 'stage') deps.add(base.stage);
    for (const ins of [...extra, ...s.instructions]) {
      if (ins.kind === 'copy' && ins.from !== undefined) {
        if (isExpandable(ins.from, this.lex)) {
          throw new BuildError(
            'BAD_FLAG',
            'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
            { range: ins.range },
          );
        }
        const ref = this.stageRef(ins.from, s.index, ins.range, true);
        if (ref.kind === 'stage') deps.add(ref.stage);
      }
      if (ins.kind === 'run') {
        for (const raw of ins.mounts) {
          const from = rawMountFrom(raw);
          if (from === undefined || from === '') continue;
          const ref = this.stageRef(from, s.index, ins.range, false);
          if (ref.kind === 'stage') deps.add(ref.stage);
        }
      }
    }
    return [...deps].sort((a, b) => a - b);
  }

  async plan(targetName: string | undefined): Promise<BuildPlan> {
    let target = this.stages[this.stages.length - 1]!;
    if (targetName !== undefined && targetName !== '') {
      const t = this.byName.get(targetName.toLowerCase());
      if (t === undefined) {
        const names = this.stages.flatMap((s) => (s.from.stageName === undefined ? [] : [s.from.stageName]));
        throw new BuildError('UNKNOWN_STAGE', `target stage "${targetName}" could not be found`, {
          hint: didYouMean(targetName, names) ?? (names.length > 0 ? `stages: ${names.join(', ')}` : 'this Dockerfile names no stages (FROM image AS name)'),
        });
      }
      target = t;
    }
    // Like BuildKit, every stage's base and references are checked, reached or not.
    for (const s of this.stages) this.dependencies(s, this.base(s).base, []);
    // Walk what the target needs; each stage is planned after the stages it depends on.
    const needed = new Set<number>();
    const visit = async (s: StageDecl): Promise<void> => {
      if (needed.has(s.index)) return;
      needed.add(s.index);
      const planned = await this.planStage(s, async (dep) => {
        await visit(this.stages[dep]!);
        return this.done.get(dep)!;
      });
      this.done.set(s.index, planned);
    };
    await visit(target);
    for (const [k] of this.buildArgs) {
      if (this.declared.has(k) || isProxyArg(k) || this.globalArgs.has(k) || k === CHECK_BUILD_ARG) continue;
      this.warnings.push({
        code: 'UnusedBuildArg',
        message: `build-arg "${k}" was not consumed by any stage`,
      });
    }
    const stages = [...this.done.values()].sort((a, b) => a.index - b.index);
    return {
      stages,
      target: target.index,
      namesWithStage: this.namesWithStage(),
      buildPlatform: this.buildPlatform,
      targetPlatform: this.targetPlatform,
      proxyEnv: proxyEnvOf(this.buildArgs),
      warnings: this.warnings,
    };
  }

  /**
   * BuildKit counts, beside the stages, one more source for each COPY --from and each RUN
   * --mount (from= or not) that names no stage, and names vertices by stage unless there is
   * only one of all these.
   */
  private namesWithStage(): boolean {
    if (this.stages.length > 1) return true;
    return this.stages.some((s) =>
      s.instructions.some((ins) => {
        if (ins.kind === 'copy' && ins.from !== undefined) {
          return /^[+-]?\d+$/.test(ins.from) ? false : !this.byName.has(ins.from.toLowerCase());
        }
        if (ins.kind === 'run') return ins.mounts.some((m) => !this.byName.has((rawMountFrom(m) || 'scratch').toLowerCase()));
        return false;
      }),
    );
  }

  private async planStage(s: StageDecl, need: (index: number) => Promise<PlannedStage>): Promise<PlannedStage> {
    const { base, platform } = this.base(s);
    const replacement = this.replaced.get(s.index);
    if (replacement !== undefined) {
      // BuildKit: the context is the stage; none of its instructions run, its config is the
      // context's image config (empty for a directory).
      const image = (await this.namedImage(replacement, platform ?? this.targetPlatform, s.from.range)) ?? { config: {} };
      return {
        index: s.index,
        ...(s.from.stageName === undefined ? {} : { name: s.from.stageName }),
        base: { kind: 'named', name: replacement },
        ...(platform === undefined ? {} : { platform }),
        steps: [],
        config: image.config,
        ...(image.author === undefined ? {} : { author: image.author }),
        dependsOn: [],
        range: s.from.range,
      };
    }
    // The base's config and author, and the ONBUILD triggers it hands down.
    const os = (platform ?? this.targetPlatform).os;
    let image: ImageMeta = { config: {} };
    // A stage built FROM another starts where that one ended: its environment holds the
    // parent's ARG values, and its ARGs stay in scope (for RUN, and RUN's history), as BuildKit does.
    let inherited: { readonly vars: readonly string[]; readonly args: readonly StepArg[] } = { vars: [], args: [] };
    let triggers: readonly string[] = [];
    if (base.kind === 'stage') {
      const parent = await need(base.stage);
      image = { config: parent.config, ...(parent.author === undefined ? {} : { author: parent.author }) };
      inherited = this.finalScope.get(base.stage)!;
      triggers = parent.config.OnBuild ?? [];
    } else if (base.kind === 'scratch') {
      image = { config: emptyImageConfig(os) };
    } else if (base.kind === 'image' && this.opts.resolveImage !== undefined) {
      try {
        image = (await this.opts.resolveImage(base.ref, platform ?? this.targetPlatform)) ?? { config: {} };
      } catch (e) {
        located(e, s.from.range); // a base image that cannot be had is the FROM's error
      }
      triggers = image.config.OnBuild ?? [];
    } else if (base.kind === 'named') {
      // A directory (or scratch) as the base starts from the empty image, as scratch does.
      image = (await this.namedImage(base.name, platform ?? this.targetPlatform, s.from.range)) ?? { config: emptyImageConfig(os) };
      triggers = image.config.OnBuild ?? [];
    }
    const onbuild = triggers.map((t) => parseTrigger(t, s.from.range));
    const dependsOn = this.dependencies(s, base, onbuild);
    for (const d of dependsOn) await need(d);

    const config = image.config;
    let env = config.Env ?? [];
    // PATH is always set, except on Windows, which has its own (BuildKit #5445).
    if (os !== 'windows' && !env.some((e) => splitEnv(e)[0] === 'PATH')) env = [...env, `PATH=${DEFAULT_PATH}`];
    const state = new StageState({ ...config, Env: env, OnBuild: null }, image.author, inherited);
    const steps: Step[] = [];
    for (const [i, ins] of [...onbuild, ...s.instructions].entries()) {
      steps.push(this.step(ins, state, s, i < onbuild.length));
    }
    this.finalScope.set(s.index, { vars: state.env(), args: state.args() });
    return {
      index: s.index,
      ...(s.from.stageName === undefined ? {} : { name: s.from.stageName }),
      base,
      ...(platform === undefined ? {} : { platform }),
      steps,
      config: state.config,
      ...(state.author === undefined ? {} : { author: state.author }),
      dependsOn,
      range: s.from.range,
    };
  }

  private async namedImage(key: string, platform: Platform, range: SourceRange): Promise<ImageMeta | undefined> {
    try {
      return await this.opts.namedContexts?.image(key, platform);
    } catch (e) {
      return located(e, range);
    }
  }

  private expand(word: string, env: EnvLookup, range: SourceRange): string {
    try {
      return this.lex.processWord(word, env);
    } catch (e) {
      return located(e, range);
    }
  }

  private step(raw: Instruction, st: StageState, s: StageDecl, fromOnbuild: boolean): Step {
    const env = st.lookup();
    const x = (w: string): string => this.expand(w, env, raw.range);
    const xo = (w: string | undefined): string | undefined => (w === undefined ? undefined : x(w));
    const snapshot = (ins: Instruction, extra: Partial<Step> = {}): Step => ({
      instruction: ins,
      env: st.env(),
      args: st.args(),
      workdir: st.config.WorkingDir ?? '/',
      user: st.config.User ?? '',
      shell: st.config.Shell ?? DEFAULT_SHELL,
      onbuild: fromOnbuild,
      ...extra,
    });
    switch (raw.kind) {
      case 'env': {
        const pairs = raw.env.map((kv): KeyValue => ({ key: x(kv.key), value: x(kv.value), noDelim: kv.noDelim }));
        for (const kv of pairs) st.setEnv(kv.key, kv.value);
        return snapshot({ ...raw, env: pairs });
      }
      case 'arg': {
        // Each ARG's value: the build arg, else its default (expanded), else the global ARG's.
        const args = raw.args.map((a) => {
          this.declared.add(a.key);
          const given = this.buildArgs.get(a.key);
          let value: string | undefined;
          if (given !== undefined) value = given;
          else if (a.value !== undefined) value = x(a.value);
          else value = this.globalArgs.get(a.key);
          st.declareArg(a.key, value);
          return value === undefined ? { key: a.key } : { key: a.key, value };
        });
        return snapshot({ ...raw, args });
      }
      case 'label': {
        const labels = raw.labels.map((kv): KeyValue => ({ key: x(kv.key), value: x(kv.value), noDelim: kv.noDelim }));
        st.update({ Labels: { ...(st.config.Labels ?? {}), ...Object.fromEntries(labels.map((l) => [l.key, l.value])) } });
        return snapshot({ ...raw, labels });
      }
      case 'workdir': {
        const path = x(raw.path);
        const abs = posix.isAbsolute(path) ? posix.normalize(path) : posix.join(st.config.WorkingDir ?? '/', path);
        st.update({ WorkingDir: abs.length > 1 ? abs.replace(/\/+$/, '') : abs });
        return snapshot({ ...raw, path: st.config.WorkingDir! }, this.titled(raw, env));
      }
      case 'user': {
        const user = x(raw.user);
        st.update({ User: user });
        return snapshot({ ...raw, user });
      }
      case 'volume': {
        const paths = raw.paths.map(x);
        for (const p of paths) {
          if (p.trim() === '') throw new BuildError('BAD_INSTRUCTION', 'VOLUME specified can not be an empty string', { range: raw.range });
        }
        st.update({ Volumes: { ...(st.config.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) } });
        return snapshot({ ...raw, paths });
      }
      case 'stopsignal': {
        const signal = x(raw.signal);
        st.update({ StopSignal: signal });
        return snapshot({ ...raw, signal });
      }
      case 'expose': {
        const ports = raw.ports.flatMap((p) => {
          try {
            return this.lex.processWords(p, env);
          } catch (e) {
            return located(e, raw.range);
          }
        });
        const exposed: Record<string, Record<string, never>> = { ...(st.config.ExposedPorts ?? {}) };
        for (const p of ports) {
          for (const key of exposedPortKeys(parseExposePort(p, raw.range))) exposed[key] = {};
        }
        st.update({ ExposedPorts: exposed });
        return snapshot({ ...raw, ports });
      }
      case 'copy':
      case 'add': {
        const sources = raw.sources.map(x);
        const dest = x(raw.dest);
        const heredocSources = raw.heredocSources.map((h) => ({
          ...h,
          data: h.expand ? this.expandRaw(h.data, env, raw.range) : h.data,
        }));
        const chown = xo(raw.chown);
        const chmod = xo(raw.chmod);
        const common = {
          ...raw,
          sources,
          dest,
          heredocSources,
          ...(chown === undefined ? {} : { chown }),
          ...(chmod === undefined ? {} : { chmod }),
        };
        if (raw.kind === 'add') {
          const checksum = xo(raw.checksum);
          if (checksum !== undefined && checksum !== '') checkAddChecksum(sources, raw.range);
          return snapshot({ ...common, kind: 'add', ...(checksum === undefined ? {} : { checksum }) } as Instruction, this.titled(raw, env));
        }
        const from = raw.from === undefined ? undefined : this.stageRef(raw.from, s.index, raw.range, true);
        return snapshot(common as Instruction, { ...this.titled(raw, env), ...(from === undefined ? {} : { from }) });
      }
      case 'run': {
        const mounts: PlannedMount[] = raw.mounts.map((m) => {
          const mount = parseRunMount(m, x, raw.range);
          const from = 'from' in mount ? mount.from : '';
          let source: SourceRef;
          if (from !== '') source = this.stageRef(from, s.index, raw.range, false);
          else source = mount.type === 'cache' ? { kind: 'scratch' } : { kind: 'context' };
          return { mount, source };
        });
        return snapshot(raw, { mounts, ...this.titled(raw, env, mounts) });
      }
      case 'cmd':
      case 'entrypoint': {
        const shell = st.config.Shell ?? DEFAULT_SHELL;
        const argv = raw.prependShell ? [...shell, ...raw.args] : [...raw.args];
        if (raw.kind === 'cmd') st.update({ Cmd: argv, ArgsEscaped: true }, 'cmd');
        else st.update({ Entrypoint: argv, ...(st.cmdSet ? {} : { Cmd: null }) });
        return snapshot(raw);
      }
      case 'shell':
        st.update({ Shell: raw.shell });
        return snapshot(raw);
      case 'healthcheck': {
        const h = raw.health;
        st.update({
          Healthcheck: {
            Test: h.test,
            ...(h.interval === undefined ? {} : { Interval: h.interval }),
            ...(h.timeout === undefined ? {} : { Timeout: h.timeout }),
            ...(h.startPeriod === undefined ? {} : { StartPeriod: h.startPeriod }),
            ...(h.startInterval === undefined ? {} : { StartInterval: h.startInterval }),
            ...(h.retries === undefined ? {} : { Retries: h.retries }),
          },
        });
        return snapshot(raw);
      }
      case 'onbuild':
        st.update({ OnBuild: [...(st.config.OnBuild ?? []), raw.expression] });
        return snapshot(raw);
      case 'maintainer':
        st.author = raw.maintainer;
        return snapshot(raw);
      case 'from':
        return snapshot(raw);
    }
  }

  private titled(ins: Instruction, env: EnvLookup, mounts: readonly PlannedMount[] = []): { title?: string } {
    const title = stepTitle(ins, env, this.lex.escapeToken, mounts, this.targetPlatform.os);
    return title === undefined ? {} : { title };
  }

  /** Heredoc bodies expand with quotes left alone, as a shell would. */
  private expandRaw(data: string, env: EnvLookup, range: SourceRange): string {
    try {
      return this.rawLex.processWord(data, env);
    } catch (e) {
      return located(e, range);
    }
  }
}

/** The `from=` of a raw --mount value, before expansion (how BuildKit finds dependencies). */
function rawMountFrom(raw: string): string | undefined {
  for (const field of raw.split(',')) {
    const eq = field.indexOf('=');
    if (eq > 0 && field.slice(0, eq).trim().toLowerCase() === 'from') return field.slice(eq + 1).replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

/** An ONBUILD trigger of a base: one instruction, checked now that it runs. */
function parseTrigger(text: string, at: SourceRange): Instruction {
  let node: InstructionNode | undefined;
  try {
    const ast = parseDockerfile(text, { file: at.file }).ast;
    if (ast.instructions.length !== 1) throw new BuildError('BAD_INSTRUCTION', 'onbuild trigger should be a single expression', { range: at });
    node = ast.instructions[0]!;
  } catch (e) {
    return located(e, at);
  }
  const moved: InstructionNode = { ...node, range: at, keywordRange: at };
  try {
    return parseInstruction(moved);
  } catch (e) {
    return located(e, at);
  }
}

/**
 * BuildKit's empty image: what `FROM scratch` (and a directory as the base) starts from.
 * Windows keeps its own PATH.
 */
function emptyImageConfig(os: string): ImageConfig {
  return os === 'windows' ? { WorkingDir: '/' } : { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' };
}

/** A stage's evolving image config and the environment its steps see. */
class StageState {
  /** ENV and ARG values, each where it was last set; ARG values never reach the image config. */
  private vars: string[];
  /** ARG declarations in scope, in order (the parent stage's first). */
  private readonly declaredArgs: StepArg[];
  cmdSet = false;

  constructor(
    public config: ImageConfig,
    /** The image's author: the base's, until a MAINTAINER. */
    public author: string | undefined,
    inherited: { readonly vars: readonly string[]; readonly args: readonly StepArg[] },
  ) {
    // The base's environment (a parent stage's holds its ARG values too), then the image's
    // own variables set over it, as BuildKit initialises a stage.
    let vars = [...inherited.vars];
    for (const e of config.Env ?? []) vars = setEnvLast(vars, ...splitEnv(e));
    this.vars = vars;
    this.declaredArgs = [...inherited.args];
  }

  update(patch: Partial<ImageConfig>, what?: 'cmd'): void {
    this.config = { ...this.config, ...patch };
    if (what === 'cmd') this.cmdSet = true;
  }

  setEnv(key: string, value: string): void {
    this.vars = setEnvLast(this.vars, key, value);
    this.update({ Env: setEnv(this.config.Env ?? [], key, value) });
  }

  /** An ARG without a value leaves the environment as it is (a value already set stays). */
  declareArg(key: string, value: string | undefined): void {
    this.declaredArgs.push(value === undefined ? { key } : { key, value });
    if (value !== undefined && !NON_ENV_ARGS.has(key)) this.vars = setEnvLast(this.vars, key, value);
  }

  lookup(): EnvLookup {
    return lookupOf(this.vars);
  }

  env(): readonly string[] {
    return [...this.vars];
  }

  args(): readonly StepArg[] {
    return [...this.declaredArgs];
  }
}

/** ADD --checksum verifies a download: BuildKit refuses it for anything else, with these words. */
function checkAddChecksum(sources: readonly string[], range: SourceRange): void {
  if (sources.length !== 1) throw new BuildError('BAD_INSTRUCTION', "checksum can't be specified for multiple sources", { range });
  if (remoteKind(sources[0]!) === undefined) throw new BuildError('BAD_INSTRUCTION', 'checksum requires HTTP(S) or Git sources', { range });
}

/** Turn a parsed Dockerfile into the plan for a target. */
export async function planBuild(ast: DockerfileAST, options: ConvertOptions = {}): Promise<BuildPlan> {
  // Lint warnings go through the build checks (`# check=skip=…`, `error=true`).
  const linter = new Linter(checkOptionsFor(ast, options.buildArgs));
  // The parser's NoEmptyContinuation reads as BuildKit's rule does in a build.
  for (const w of ast.warnings) linter.report(w.code === 'NoEmptyContinuation' ? { ...w, message: 'Empty continuation line' } : w);
  const instructions = ast.instructions.map((n) => parseInstruction(n, { warn: (w) => linter.report(w, n.comments) }));
  const { meta, stages } = splitStages(instructions);
  const c = new Converter(ast, stages, options, linter.warnings);
  const last = stages[stages.length - 1]!;
  const targetStage = options.target !== undefined && options.target !== '' ? options.target : (last.from.stageName ?? 'default');
  c.initGlobalArgs(meta, targetStage);
  const plan = await c.plan(options.target);
  const failure = linter.failure();
  if (failure !== undefined) throw failure;
  return plan;
}
