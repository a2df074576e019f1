/**
 * Bearer tokens of registry token services (the distribution token spec), kept until they
 * expire: one token per (registry, token service, set of scopes, credentials), shared by every
 * session of the process, fetched once however many requests wait for it. Credentials are
 * part of the key only as a hash and never leave this module in a message.
 */
import { createHash } from 'node:crypto';
import type { Credentials } from './credentials.js';

/** What a `WWW-Authenticate: Bearer …` challenge names. */
export interface BearerChallenge {
  readonly realm: string;
  readonly service?: string;
}

export interface IssuedToken {
  readonly token: string;
  /** When to stop using it (ms since the epoch, by the local clock). */
  readonly expiresAt: number;
}

/** The token spec's default lifetime when a service sends no `expires_in`. */
export const DEFAULT_TOKEN_SECONDS = 60;

/**
 * When a token stops being used: `expires_in` seconds after the request for it was sent (the
 * local clock, so a skewed server clock does not matter), less a tenth of its life (at most
 * 10 s) so that a request never leaves with a token about to lapse.
 */
export function expiryOf(sentAt: number, expiresIn: unknown): number {
  const seconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_SECONDS;
  const life = seconds * 1000;
  return sentAt + life - Math.min(10_000, life / 10);
}

/** The parameters of an authentication challenge: `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): { scheme: string; params: Map<string, string> } {
  const scheme = header.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const params = new Map<string, string>();
  for (const p of header.matchAll(/(\w+)="([^"]*)"/g)) params.set(p[1]!.toLowerCase(), p[2]!);
  return { scheme, params };
}

function credentialId(c: Credentials | undefined): string {
  if (c === undefined) return 'anonymous';
  return createHash('sha256').update(JSON.stringify([c.username ?? '', c.password ?? '', c.identityToken ?? ''])).digest('hex');
}

export class TokenCache {
  readonly #tokens = new Map<string, Promise<IssuedToken>>();
  readonly #challenges = new Map<string, BearerChallenge>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The token service a registry (by origin) named last, so later sessions ask it first. */
  challengeFor(origin: string): BearerChallenge | undefined {
    return this.#challenges.get(origin);
  }

  rememberChallenge(origin: string, challenge: BearerChallenge): void {
    this.#challenges.set(origin, challenge);
  }

  static key(origin: string, challenge: BearerChallenge, scopes: Iterable<string>, credentials: Credentials | undefined): string {
    return JSON.stringify([origin, challenge.realm, challenge.service ?? '', [...new Set(scopes)].sort(), credentialId(credentials)]);
  }

  /**
   * A live token for `key`: the one held, or the one being fetched, or a new one from
   * `fetch`. A failed fetch is not kept: the next caller asks again.
   */
  async obtain(key: string, fetch: () => Promise<IssuedToken>): Promise<string> {
    const held = this.#tokens.get(key);
    if (held !== undefined) {
      const t = await held; // a rejection reaches every caller that waited for that fetch
      if (t.expiresAt > this.now()) return t.token;
      if (this.#tokens.get(key) === held) this.#tokens.delete(key);
    }
    const pending = this.#tokens.get(key) ?? fetch();
    this.#tokens.set(key, pending);
    try {
      return (await pending).token;
    } catch (e) {
      if (this.#tokens.get(key) === pending) this.#tokens.delete(key);
      throw e;
    }
  }

  /** Forgets `token` under `key` (the registry refused it: expired early, or revoked). */
  async drop(key: string, token: string): Promise<void> {
    const held = this.#tokens.get(key);
    if (held === undefined) return;
    const t = await held.catch(() => undefined);
    if (t?.token === token && this.#tokens.get(key) === held) this.#tokens.delete(key);
  }
}

/** The process's tokens: every session shares them unless handed its own cache. */
export const processTokens = new TokenCache();
