/** Checking images with tools nobody here wrote: umoci unpacks an OCI layout, runc runs it. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './cli.js';

/** `umoci unpack` the image `tag` of the OCI layout directory `layout` into `bundle`. */
export function umociUnpack(layout: string, tag: string, bundle: string): string {
  const r = run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  if (r.status !== 0) throw new Error(`umoci unpack failed: ${r.stderr}`);
  return bundle;
}

/** runc run a bundle (no terminal) and return its output. */
export function runBundle(bundle: string): string {
  const configPath = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { process: { terminal: boolean } };
  config.process.terminal = false;
  writeFileSync(configPath, JSON.stringify(config));
  const id = `tsbuild-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const r = run('runc', ['run', '--bundle', bundle, id]);
  run('runc', ['delete', '--force', id]);
  if (r.status !== 0) throw new Error(`runc run failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
