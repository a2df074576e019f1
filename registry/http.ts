/**
 * The HTTP client every request of tsbuild goes through (undici), loaded on first use, and the
 * certificates its TLS connections trust.
 *
 * undici takes ~55 ms to load from its package: builds that never talk to a registry do not
 * pay for it. The CLI runs it from a bundle of its own with V8's code cache, in ~29 ms
 * (scripts/bundle.mjs).
 *
 * NODE_EXTRA_CA_CERTS: Node reads and parses that file as it starts, before any code runs;
 * with a system bundle of ~140 certificates that is ~50 ms of every command, and most commands
 * open no TLS connection. The launcher (bin/tsbuild.js) therefore keeps the variable from
 * Node's start; the CLI puts it back in the environment for child processes and leaves its
 * path under DEFERRED_EXTRA_CA (cli/extra-ca.ts); the certificates are then read here, when
 * undici loads, and every TLS connection trusts them as Node's own default would have.
 */
import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';

/** Where the CLI leaves the NODE_EXTRA_CA_CERTS path that Node did not load (cli/extra-ca.ts). */
const DEFERRED_EXTRA_CA = Symbol.for('tsbuild.deferredExtraCaCerts');

/** The NODE_EXTRA_CA_CERTS path Node did not load at its start, if the CLI deferred it. */
function deferredPath(): string | undefined {
  const path = (globalThis as Record<symbol, unknown>)[DEFERRED_EXTRA_CA];
  return typeof path === 'string' ? path : undefined;
}

let extra: { pem: string | undefined } | undefined;

/**
 * The PEM text of NODE_EXTRA_CA_CERTS, read once: the deferred file, or the one Node loaded at
 * its start (Node's default trusts it, but a connection given its own CAs must list it too).
 */
function extraCaPem(): string | undefined {
  if (extra === undefined) {
    const path = deferredPath() ?? (process.env['NODE_EXTRA_CA_CERTS'] || undefined);
    extra = { pem: undefined };
    if (path !== undefined) {
      try {
        extra = { pem: readFileSync(path, 'utf8') };
      } catch {
        // As Node does with a file it cannot load (its warning is printed at start): without it.
      }
    }
  }
  return extra.pem;
}

/** The CA certificates a TLS connection trusts: Node's roots, NODE_EXTRA_CA_CERTS, and `hostCa`. */
export function trustedCas(hostCa?: string): string[] {
  const { rootCertificates } = process.getBuiltinModule('node:tls');
  const pem = extraCaPem();
  return [...rootCertificates, ...(pem === undefined ? [] : [pem]), ...(hostCa === undefined ? [] : [hostCa])];
}

let undici: Promise<typeof import('undici')> | undefined;

/** undici, loaded once; its default dispatcher trusts NODE_EXTRA_CA_CERTS where Node's start did not load it. */
export function loadUndici(): Promise<typeof import('undici')> {
  undici ??= import('undici').then((u) => {
    if (deferredPath() !== undefined) u.setGlobalDispatcher(new u.Agent({ connect: { ca: trustedCas() } }) as Dispatcher);
    return u;
  });
  return undici;
}
