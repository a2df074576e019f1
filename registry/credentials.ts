/**
 * Registry credentials where docker keeps them: `$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json` — `auths` (base64 `auth`, `identitytoken`), and `credsStore` /
 * `credHelpers` through `docker-credential-*` programs. `login` and `logout` write the same
 * file in the same format. Credentials never appear in a message.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../content/index.js';
import { BuildError } from '../errors/index.js';

export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  /** An OAuth2 refresh token, used instead of a password at token services. */
  readonly identityToken?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  const dir = env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : join(env.HOME ?? homedir(), '.docker');
  return join(dir, 'config.json');
}

async function readConfig(env: NodeJS.ProcessEnv): Promise<DockerConfig> {
  const path = dockerConfigPath(env);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as DockerConfig;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new BuildError('IO', `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The keys a domain's credentials may be stored under (docker.io has its legacy URL). */
function configKeys(domain: string): string[] {
  if (domain === 'docker.io') return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [domain, `https://${domain}`, `http://${domain}`];
}

function serverURL(domain: string): string {
  return domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain;
}

/** Run `docker-credential-<helper> <action>` with `input` on stdin; its stdout. */
function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    // node:child_process only when a helper is run: loading it costs every start ~3 ms.
    const child = process.getBuiltinModule('node:child_process').spawn(`docker-credential-${helper}`, [action], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => reject(new BuildError('IO', `credential helper docker-credential-${helper} cannot run: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else if (action === 'get' && /credentials not found/i.test(out)) resolve('');
      else reject(new BuildError('IO', `credential helper docker-credential-${helper} ${action} failed (exit ${code})`));
    });
    child.stdin.end(input);
  });
}

export async function credentialsFor(domain: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const config = await readConfig(env);
  const keys = configKeys(domain);
  const helper = keys.map((k) => config.credHelpers?.[k]).find((h) => h !== undefined) ?? config.credsStore;
  if (helper !== undefined && helper !== '') {
    const out = await runHelper(helper, 'get', serverURL(domain), env);
    if (out.trim() !== '') {
      const c = JSON.parse(out) as { Username?: string; Secret?: string };
      if (c.Username === '<token>') return { identityToken: c.Secret ?? '' };
      return { username: c.Username ?? '', password: c.Secret ?? '' };
    }
  }
  for (const k of keys) {
    const entry = config.auths?.[k];
    if (entry === undefined) continue;
    if (entry.identitytoken !== undefined && entry.identitytoken !== '') return { identityToken: entry.identitytoken };
    if (entry.auth !== undefined && entry.auth !== '') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new BuildError('IO', `the saved credentials for ${domain} in ${dockerConfigPath(env)} are malformed`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  return undefined;
}

async function writeConfig(env: NodeJS.ProcessEnv, config: DockerConfig): Promise<void> {
  const path = dockerConfigPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(config, null, '\t') + '\n', 0o600);
}

/** Save credentials as `docker login` does (in the credential store when one is set). */
export async function saveCredentials(domain: string, username: string, password: string, env: NodeJS.ProcessEnv): Promise<void> {
  const config = await readConfig(env);
  const key = serverURL(domain);
  const helper = config.credHelpers?.[key] ?? config.credsStore;
  if (helper !== undefined && helper !== '') {
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: username, Secret: password }), env);
    config.auths = { ...(config.auths ?? {}), [key]: {} };
  } else {
    config.auths = { ...(config.auths ?? {}), [key]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  }
  await writeConfig(env, config);
}

/** Forget the credentials of a registry; false when there were none. */
export async function removeCredentials(domain: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const config = await readConfig(env);
  const keys = configKeys(domain).filter((k) => config.auths?.[k] !== undefined);
  const helper = config.credHelpers?.[serverURL(domain)] ?? config.credsStore;
  if (helper !== undefined && helper !== '') await runHelper(helper, 'erase', serverURL(domain), env).catch(() => '');
  if (keys.length === 0) return false;
  for (const k of keys) delete config.auths![k];
  await writeConfig(env, config);
  return true;
}
