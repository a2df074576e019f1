/**
 * Test support: child processes run plain Node, which cannot load .ts, so tests transpile
 * the folders a child needs into a temp dir (never a stale dist/) and import from there.
 * A child that ingests into the content store needs 'native' too (the addon hashes).
 * Only for tests; nothing in the library imports this file.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The shared leaves every folder may import: always transpiled. */
const SHARED = ['errors', 'oci'];

/** Transpiles `folders` (relative to the repo) and the shared leaves into `outDir`; returns a file URL maker. */
export async function transpileForChild(outDir: string, folders: readonly string[]): Promise<(path: string) => string> {
  for (const folder of new Set([...folders, ...SHARED])) {
    for (const name of await readdir(join(repoRoot, folder))) {
      if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
      const source = await readFile(join(repoRoot, folder, name), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      });
      const target = join(outDir, folder, name.replace(/\.ts$/, '.js'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, outputText);
    }
  }
  // native/'s loader looks for the addon beside itself, in build/: show it the one built here.
  if (folders.includes('native')) await symlink(join(repoRoot, 'native', 'build'), join(outDir, 'native', 'build'));
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}');
  return (path) => pathToFileURL(join(outDir, path)).href;
}
