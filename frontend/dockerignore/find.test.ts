import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuildError } from '../../errors/index.js';
import { findIgnoreFile, readIgnorePatterns } from './find.js';

let context: string;

beforeEach(async () => {
  context = await mkdtemp(join(tmpdir(), 'tsbuild-dockerignore-'));
});
afterEach(async () => {
  await rm(context, { recursive: true, force: true });
});

describe('findIgnoreFile', () => {
  it('uses CONTEXT/.dockerignore when the Dockerfile has no ignore file of its own', async () => {
    await writeFile(join(context, '.dockerignore'), 'dist\n');
    const file = await findIgnoreFile(join(context, 'Dockerfile'), context);
    expect(file).toEqual({ path: join(context, '.dockerignore'), text: 'dist\n', dockerfileSpecific: false });
  });

  it('prefers Dockerfile.dockerignore beside the Dockerfile, without merging the two', async () => {
    await writeFile(join(context, '.dockerignore'), 'dist\n');
    await writeFile(join(context, 'Dockerfile.dockerignore'), 'logs\n');
    expect(await readIgnorePatterns(join(context, 'Dockerfile'), context)).toMatchObject([
      { pattern: 'logs', exception: false },
    ]);
  });

  it('looks beside a Dockerfile in a subdirectory, under its own name', async () => {
    await mkdir(join(context, 'build'));
    await writeFile(join(context, '.dockerignore'), 'root\n');
    await writeFile(join(context, 'build', 'foo.Dockerfile.dockerignore'), 'specific\n');
    await writeFile(join(context, 'build', '.dockerignore'), 'not-this\n');
    const file = await findIgnoreFile(join(context, 'build', 'foo.Dockerfile'), context);
    expect(file?.path).toBe(join(context, 'build', 'foo.Dockerfile.dockerignore'));
    expect(file?.dockerfileSpecific).toBe(true);
  });

  it('lets an empty Dockerfile-specific file win (it excludes nothing)', async () => {
    await writeFile(join(context, '.dockerignore'), '*\n');
    await writeFile(join(context, 'Dockerfile.dockerignore'), '');
    expect(await readIgnorePatterns(join(context, 'Dockerfile'), context)).toEqual([]);
    expect((await findIgnoreFile(join(context, 'Dockerfile'), context))?.dockerfileSpecific).toBe(true);
  });

  it('reads only the context file for a Dockerfile from stdin', async () => {
    await writeFile(join(context, '-.dockerignore'), 'nope\n');
    await writeFile(join(context, '.dockerignore'), 'yes\n');
    expect((await findIgnoreFile('-', context))?.text).toBe('yes\n');
    expect((await findIgnoreFile(undefined, context))?.text).toBe('yes\n');
  });

  it('returns undefined when there is no ignore file', async () => {
    expect(await findIgnoreFile(join(context, 'Dockerfile'), context)).toBeUndefined();
    expect(await readIgnorePatterns(join(context, 'Dockerfile'), context)).toEqual([]);
  });

  it('keeps the byte-order mark for the parser, which strips exactly one', async () => {
    await writeFile(join(context, '.dockerignore'), Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x0a]));
    expect((await findIgnoreFile(undefined, context))?.text).toBe('\uFEFFa\n');
    expect(await readIgnorePatterns(undefined, context)).toMatchObject([{ pattern: 'a' }]);
  });

  it('fails with IO when a candidate exists but is not a readable file', async () => {
    await mkdir(join(context, 'Dockerfile.dockerignore'));
    const error = await findIgnoreFile(join(context, 'Dockerfile'), context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).code).toBe('IO');
  });

  it('names the file in parse errors', async () => {
    await writeFile(join(context, 'Dockerfile.dockerignore'), 'ok\nbad[\n');
    const error = await readIgnorePatterns(join(context, 'Dockerfile'), context).catch((e: unknown) => e);
    expect((error as BuildError).range).toMatchObject({
      file: join(context, 'Dockerfile.dockerignore'),
      start: { line: 2, column: 1 },
    });
  });
});
