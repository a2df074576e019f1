/** Where a registry's API is served, and over which scheme. */

/**
 * Where the registry's API is: Docker Hub's endpoint for docker.io; plain HTTP for loopback
 * and for hosts marked insecure, unless a CA was given for the host (then it speaks TLS).
 */
export function registryEndpoint(domain: string, insecure: readonly string[] = [], tlsHosts: readonly string[] = []): string {
  if (domain === 'docker.io') return 'https://registry-1.docker.io';
  if (tlsHosts.includes(domain)) return `https://${domain}`;
  const host = domain.replace(/:\d+$/, '');
  const loopback = host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';
  return `${loopback || insecure.includes(domain) ? 'http' : 'https'}://${domain}`;
}
