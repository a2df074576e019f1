/** Registry options of the command line: `--insecure-registry` and `--registry-ca HOST=FILE`. */
import { readFileSync } from 'node:fs';
import { BuildError } from '../errors/index.js';
import type { RegistryAccess } from '../build/index.js';
import { flagValues, usageError, type ParsedArgs } from './args.js';

/** How a command reaches registries: its `--insecure-registry` and `--registry-ca` flags (CA files read once) and the environment credentials come from. */
export function registryAccess(p: ParsedArgs, env: NodeJS.ProcessEnv): RegistryAccess {
  return { insecure: flagValues(p, 'insecure-registry'), ca: readRegistryCAs(flagValues(p, 'registry-ca')), env };
}

/** `--registry-ca HOST=FILE`: a CA (PEM) a registry's certificate is checked against. */
export function readRegistryCAs(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw usageError(`invalid --registry-ca "${v}"`, 'write --registry-ca HOST[:PORT]=FILE');
    const file = v.slice(eq + 1);
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (e) {
      throw new BuildError('IO', `cannot read the CA file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw usageError(`${file} holds no PEM certificate`);
    out.set(v.slice(0, eq), pem);
  }
  return out;
}
