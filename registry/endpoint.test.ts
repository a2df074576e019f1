import { describe, expect, it } from 'vitest';
import { registryEndpoint } from './endpoint.js';

describe('registry endpoints', () => {
  it('speaks plain HTTP to loopback and to registries marked insecure, HTTPS to others', () => {
    expect(registryEndpoint('docker.io')).toBe('https://registry-1.docker.io');
    expect(registryEndpoint('localhost:5000')).toBe('http://localhost:5000');
    expect(registryEndpoint('127.0.0.2:5000')).toBe('http://127.0.0.2:5000');
    expect(registryEndpoint('ghcr.io')).toBe('https://ghcr.io');
    expect(registryEndpoint('lan.example:5000', ['lan.example:5000'])).toBe('http://lan.example:5000');
  });
});
