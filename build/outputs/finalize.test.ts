import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageId, writeIidFile, writeMetadataFile } from './finalize.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-finalize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = `sha256:${'c'.repeat(64)}`;
const manifest = `sha256:${'a'.repeat(64)}`;

describe('finalize (what is left once the outputs are written)', () => {
  it('takes the image ID as buildx does: the config digest, else the manifest digest, else none', () => {
    expect(imageId({ response: { 'containerimage.config.digest': config, 'containerimage.digest': manifest } })).toBe(config);
    expect(imageId({ response: { 'containerimage.digest': manifest } })).toBe(manifest);
    expect(imageId({ response: {} })).toBeUndefined();
  });

  it('writes the iidfile and the metadata file whole, with nothing left beside them', async () => {
    const iid = join(dir, 'iid');
    await writeIidFile(iid, { response: { 'containerimage.config.digest': config } });
    expect(readFileSync(iid, 'utf8')).toBe(config);
    const meta = join(dir, 'meta.json');
    await writeMetadataFile(meta, '{\n  "a": "b"\n}');
    expect(readFileSync(meta, 'utf8')).toBe('{\n  "a": "b"\n}');
    expect(readdirSync(dir).sort()).toEqual(['iid', 'meta.json']);
  });

  it('refuses an iidfile when no output made an image', async () => {
    await expect(writeIidFile(join(dir, 'none'), { response: {} })).rejects.toThrow('internal: --iidfile without an image output');
  });
});
