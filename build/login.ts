/** Registry logins: credentials checked with the registry, then kept in docker's config.json as docker keeps them. */
import { checkLogin, removeCredentials, saveCredentials } from '../registry/index.js';
import type { RegistryAccess } from './pull.js';

export async function loginToRegistry(domain: string, username: string, password: string, access: RegistryAccess): Promise<void> {
  await checkLogin(domain, { username, password }, access);
  await saveCredentials(domain, username, password, access.env);
}

/** Forget a registry's saved credentials; false when there were none. */
export function logoutFromRegistry(domain: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return removeCredentials(domain, env);
}
