/** `tsbuild [build] [flags] CONTEXT`: the build command and its flags (docker buildx's names). */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BuildError } from '../errors/index.js';
import {
  buildAndExport, formatPlatform, hostPlatform, defaultRoot, imageId, parsePlatform, removeOwnTempPathsSync, writeIidFile, writeMetadataFile,
} from '../build/index.js';
import { parseBuildContexts } from './build-context.js';
import { parseCacheFrom, parseCacheTo } from './cache-options.js';
import { parseAllowFlags } from './entitlements.js';
import { buildArgsFrom, flagSet, flagValue, flagValues, parseArgs, usageError, type FlagSpec } from './args.js';
import type { CommandIO } from './command-io.js';
import { checkIidFileOutputs, metadataJson, resolveOutputs } from './outputs.js';
import { handleInterrupts } from './interrupt.js';
import { checkOutputPaths } from './output-paths.js';
import { registryAccess } from './registry-options.js';
import { createRenderer, type ProgressMode } from './progress.js';
import { openSecrets, openSsh, parseSecretSpec, parseSshSpec } from './secrets.js';

export const BUILD_FLAGS: readonly FlagSpec[] = [
  { name: 'debug', type: 'boolean' },
  { name: 'help', short: 'h', type: 'boolean' },
  { name: 'file', short: 'f', type: 'string' },
  { name: 'tag', short: 't', type: 'string', multiple: true },
  { name: 'target', type: 'string' },
  { name: 'build-arg', type: 'string', multiple: true },
  { name: 'build-context', type: 'string', multiple: true },
  { name: 'platform', type: 'string' },
  { name: 'label', type: 'string', multiple: true },
  { name: 'secret', type: 'string', multiple: true },
  { name: 'ssh', type: 'string', multiple: true },
  { name: 'network', type: 'string' },
  { name: 'allow', type: 'string', multiple: true },
  { name: 'no-cache', type: 'boolean' },
  { name: 'no-cache-filter', type: 'string', multiple: true },
  { name: 'pull', type: 'boolean' },
  { name: 'insecure-registry', type: 'string', multiple: true },
  { name: 'registry-ca', type: 'string', multiple: true },
  { name: 'output', short: 'o', type: 'string', multiple: true },
  { name: 'push', type: 'boolean' },
  { name: 'cache-from', type: 'string', multiple: true },
  { name: 'cache-to', type: 'string', multiple: true },
  { name: 'progress', type: 'string' },
  { name: 'iidfile', type: 'string' },
  { name: 'metadata-file', type: 'string' },
  { name: 'root', type: 'string' },
];

export const BUILD_HELP = `Usage: tsbuild [build] [flags] CONTEXT

Build an image from a Dockerfile.
  -f, --file PATH            Dockerfile (default CONTEXT/Dockerfile; "-" reads stdin)
  -t, --tag NAME             name the result in the local image store (repeatable)
      --target STAGE         the stage to build
      --build-arg K[=V]      a build arg; K alone takes the value of $K
      --build-context NAME=VALUE
                             an extra context (repeatable): VALUE is a directory,
                             docker-image://REF or oci-layout://PATH[:TAG|@sha256:…];
                             FROM NAME, COPY --from=NAME and RUN --mount from=NAME read it,
                             and it replaces a stage or image of that name
      --platform OS/ARCH     the target platform (default: this machine's)
      --label K=V            a label on the image
      --secret SPEC          a secret for RUN --mount=type=secret (repeatable):
                             id=ID[,src=PATH|,env=VAR][,type=file|env]; id=ID alone reads
                             $ID when set, else the file ID
      --ssh SPEC             an SSH agent for RUN --mount=type=ssh (repeatable):
                             default|ID[=SOCKET] (default: $SSH_AUTH_SOCK)
      --network MODE         default|none|host: the network of RUN steps; default is an
                             isolated one of the build's own (slirp4netns), host needs
                             --allow network.host
      --allow ENTITLEMENT    grant security.insecure (RUN --security=insecure) or
                             network.host (--network host, RUN --network=host)
                             (repeatable, or comma-separated)
      --no-cache             run every step again
      --no-cache-filter S    run the RUN, COPY and ADD steps of stage S again (repeatable),
                             and the steps that depend on them
      --pull                 resolve FROM images in their registry again
      --insecure-registry H  reach registry H over plain HTTP (loopback is, by default)
      --registry-ca H=FILE   trust the CA in FILE (PEM) for registry H, beside the system's
  -o, --output SPEC          type=image|oci|docker|local|tar|registry[,dest=PATH][,name=REF]
                             [,tar=false][,push=true][,compression=gzip|zstd|uncompressed]
                             [,compression-level=N][,force-compression=true]
                             [,oci-mediatypes=true|false]
      --push                 push the -t names to their registries (type=image,push=true)
      --cache-to SPEC        export the build cache (repeatable): type=local,dest=DIR
                             [,mode=min|max][,tag=T][,compression=…][,compression-level=N]
                             [,force-compression=true][,image-manifest=false]
                             [,oci-mediatypes=false][,ignore-error=true]
                             | type=registry,ref=REF[,mode=min|max][,compression=…]
                             [,image-manifest=false][,oci-mediatypes=false]
                             [,ignore-error=true] | REF
                             | type=gha[,scope=S][,mode=min|max][,url=…][,token=…]
                             [,timeout=10m][,ignore-error=true]
                             | type=inline (into the image config; mode=min)
                             each also [,mounts=true|ID1;ID2]: RUN --mount=type=cache
                             contents too (ids split by ";": buildx's CSV ends a
                             field at every "," outside quotes)
      --cache-from SPEC      import a build cache (repeatable, consulted in order):
                             type=local,src=DIR[,tag=T|,digest=sha256:…]
                             | type=registry,ref=REF | REF (a cache, or an image
                             built with --cache-to type=inline)
                             | type=gha[,scope=S][,url=…][,token=…][,timeout=10m]
      --progress MODE        auto|tty|plain|json|quiet (default auto)
      --iidfile PATH         write the image ID (its config digest)
      --metadata-file PATH   write the image's digests, descriptor and names as JSON
                             (containerimage.digest: the manifest stored, written or pushed)
      --root DIR             the state directory (env TSBUILD_ROOT)
`;

export async function buildCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseArgs(argv, BUILD_FLAGS, 'build');
  if (flagSet(p, 'help')) {
    io.stdout(BUILD_HELP);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    throw new BuildError('NOT_SUPPORTED', 'not supported yet: building without root (RUN needs namespaces and overlay mounts)', {
      hint: 'run tsbuild as root',
    });
  }
  if (p.positionals.length !== 1) throw usageError('build needs exactly one CONTEXT directory', 'tsbuild build [flags] CONTEXT');
  const contextDir = resolve(p.positionals[0]!);
  try {
    if (!statSync(contextDir).isDirectory()) throw new Error();
  } catch {
    throw usageError(`the build context "${p.positionals[0]}" is not a directory`);
  }
  const buildContexts = parseBuildContexts(flagValues(p, 'build-context'), process.cwd());
  const progress = (flagValue(p, 'progress') ?? 'auto') as ProgressMode;
  if (!['auto', 'tty', 'plain', 'json', 'quiet'].includes(progress)) throw usageError(`unknown --progress mode "${progress}"`, 'use auto, tty, plain, json or quiet');
  const network = flagValue(p, 'network') ?? 'default';
  if (network !== 'default' && network !== 'none' && network !== 'host') throw usageError(`unknown --network "${network}"`, 'use default, none or host');
  const entitlements = parseAllowFlags(flagValues(p, 'allow'));
  const platformFlag = flagValue(p, 'platform');
  let platform;
  if (platformFlag !== undefined) {
    if (platformFlag.includes(',')) throw new BuildError('NOT_SUPPORTED', 'not supported yet: building for several platforms at once');
    try {
      platform = parsePlatform(platformFlag);
    } catch (e) {
      if (e instanceof BuildError) throw usageError(`--platform: ${e.message}`, e.hint);
      throw e;
    }
  }
  // gha's default scope holds the target and the platform (matrix jobs keep apart).
  const gha = { env: io.env, target: flagValue(p, 'target'), platform: formatPlatform(platform ?? hostPlatform()) };
  const cacheWarnings: string[] = [];
  const cacheTo = flagValues(p, 'cache-to').filter((v) => v !== '').map((v) => parseCacheTo(v, cacheWarnings, gha));
  const cacheFrom = flagValues(p, 'cache-from').filter((v) => v !== '').map((v) => parseCacheFrom(v, gha));
  const labels: Record<string, string> = {};
  for (const l of flagValues(p, 'label')) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw usageError(`invalid --label "${l}"`, 'write --label KEY=VALUE');
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  if (flagSet(p, 'no-cache') && flagValues(p, 'no-cache-filter').length > 0) {
    // As buildx: --no-cache already covers every stage.
    throw usageError('--no-cache and --no-cache-filter cannot currently be used together');
  }
  const outputWarnings: string[] = [];
  const outputs = resolveOutputs(flagValues(p, 'output'), flagValues(p, 'tag'), flagSet(p, 'push'), outputWarnings);
  const iidFile = flagValue(p, 'iidfile');
  const metadataFile = flagValue(p, 'metadata-file');
  if (iidFile !== undefined) checkIidFileOutputs(outputs);
  checkOutputPaths(outputs, { ...(iidFile === undefined ? {} : { iidfile: iidFile }), ...(metadataFile === undefined ? {} : { metadataFile }) });
  if (iidFile !== undefined) {
    // As buildx: an ID file of an earlier build never outlives a failed one.
    try {
      rmSync(iidFile, { force: true });
    } catch (e) {
      throw new BuildError('IO', `cannot replace the --iidfile ${iidFile}: ${(e as Error).message}`);
    }
  }
  const access = registryAccess(p, io.env);
  const secrets = openSecrets(flagValues(p, 'secret').map(parseSecretSpec), io.env);
  const ssh = openSsh(flagValues(p, 'ssh').map(parseSshSpec), io.env);

  const fileFlag = flagValue(p, 'file');
  let dockerfile: Buffer;
  let dockerfilePath: string | undefined;
  let dockerfileName: string;
  if (fileFlag === '-') {
    dockerfile = io.readStdin();
    dockerfileName = '<stdin>';
  } else {
    dockerfilePath = fileFlag === undefined ? join(contextDir, 'Dockerfile') : resolve(fileFlag);
    dockerfileName = fileFlag ?? join(p.positionals[0]!, 'Dockerfile');
    try {
      dockerfile = readFileSync(dockerfilePath);
    } catch (e) {
      throw new BuildError('IO', `cannot read the Dockerfile ${dockerfileName}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, {
        hint: 'name it with -f PATH',
      });
    }
  }
  io.sources.set(dockerfileName, dockerfile);

  const root = flagValue(p, 'root') ?? defaultRoot(io.env);
  const renderer = createRenderer(progress, io.progressStream);
  for (const message of [...outputWarnings, ...cacheWarnings]) renderer.warning({ message });
  const written = [
    ...outputs.flatMap((o) => ('dest' in o ? [o.dest] : [])),
    ...cacheTo.flatMap((c) => (c.type === 'local' ? [c.dest] : [])),
    ...[iidFile, metadataFile].filter((f) => f !== undefined),
  ];
  const interrupts = handleInterrupts({
    cleanupNow: () => {
      for (const path of written) removeOwnTempPathsSync(resolve(path));
    },
    say: (text) => io.stderr(text),
  });
  const { signal } = interrupts;
  try {
    const result = await buildAndExport({
      root,
      outputs,
      access,
      dockerfile,
      dockerfileName,
      ...(dockerfilePath === undefined ? {} : { dockerfilePath }),
      contextDir,
      buildContexts,
      ...(flagValue(p, 'target') === undefined ? {} : { target: flagValue(p, 'target')! }),
      buildArgs: buildArgsFrom(flagValues(p, 'build-arg'), io.env),
      ...(platform === undefined ? {} : { platform }),
      labels,
      noCache: flagSet(p, 'no-cache'),
      pull: flagSet(p, 'pull'),
      insecureRegistries: access.insecure,
      registryCAs: access.ca,
      env: io.env,
      noCacheFilter: flagValues(p, 'no-cache-filter'),
      network,
      entitlements,
      secrets,
      ssh,
      cacheFrom,
      cacheTo,
      events: (e) => renderer.event(e),
      warn: (message, where) => renderer.warning(where === undefined ? { message } : { message, where }),
      signal,
    });
    renderer.close();
    signal.throwIfAborted();
    if (iidFile !== undefined) await writeIidFile(iidFile, result);
    signal.throwIfAborted();
    if (metadataFile !== undefined) await writeMetadataFile(metadataFile, metadataJson(result));
    signal.throwIfAborted();
    const id = imageId(result);
    if (progress === 'quiet' && id !== undefined) io.stdout(`${id}\n`);
    // The image outputs are written: a failed cache export fails the build now.
    if (result.cacheExportError !== undefined) throw result.cacheExportError;
    return 0;
  } catch (e) {
    // Whatever a part threw on its way out, an interrupted build says so (exit status 130).
    if (signal.aborted) throw signal.reason;
    throw e;
  } finally {
    renderer.close();
    interrupts.dispose();
  }
}
