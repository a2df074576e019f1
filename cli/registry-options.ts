/** `--registry-ca HOST=FILE`: a CA (PEM) a registry's certificate is checked against. */
import { readFileSync } from 'node:fs';
import { BuildError } from '../errors/index.js';
import { usageError } from './args.js';

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
