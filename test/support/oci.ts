/** Checking images with tools nobody here wrote: umoci unpacks an OCI layout, runc runs it. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** An image config as tsbuild writes it (the fields the tests read). */
export interface OciImageConfig {
  readonly architecture: string;
  readonly os: string;
  readonly author?: string;
  readonly config: Record<string, unknown>;
  readonly history: { readonly created_by: string; readonly empty_layer?: boolean; readonly created?: string }[];
  readonly rootfs: { readonly type: string; readonly diff_ids: string[] };
}

/** The image config blob of an OCI layout tar, unpacked into `scratch` (skopeo must accept the archive too). */
export function ociArchiveConfig(ociTar: string, scratch: string): OciImageConfig {
  const inspected = run('skopeo', ['inspect', `oci-archive:${ociTar}`]);
  if (inspected.status !== 0) throw new Error(`skopeo inspect failed: ${inspected.stderr}`);
  mkdirSync(scratch, { recursive: true });
  const untar = run('tar', ['-xf', ociTar, '-C', scratch]);
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  const blob = (d: string): unknown => JSON.parse(readFileSync(join(scratch, 'blobs', 'sha256', d.slice('sha256:'.length)), 'utf8'));
  const index = JSON.parse(readFileSync(join(scratch, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = blob(index.manifests[0]!.digest) as { config: { digest: string } };
  return blob(manifest.config.digest) as OciImageConfig;
}
