import { describe, expect, it } from 'vitest';
import { metadataJson } from '../cli/outputs.js';
import { outputFileText, parseMetadata, stepOutputs } from './outputs.js';

const manifest = `sha256:${'a'.repeat(64)}`;
const config = `sha256:${'c'.repeat(64)}`;
const descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest, size: 481 };

/** A metadata file as `tsbuild build --metadata-file` writes it (the CLI's own writer). */
const metadataFile = metadataJson({
  response: {
    'containerimage.digest': manifest,
    'containerimage.config.digest': config,
    'containerimage.descriptor': Buffer.from(JSON.stringify(descriptor)).toString('base64'),
    'image.name': 'ghcr.io/me/app:1,ghcr.io/me/app:latest',
  },
});

describe('step outputs', () => {
  it('takes imageid, digest and metadata from the metadata file, and the hit ratio from the steps', () => {
    const meta = parseMetadata(metadataFile);
    const out = stepOutputs(meta, [
      { kind: 'step', name: 'a', state: 'cached' },
      { kind: 'step', name: 'b', state: 'done', ms: 10 },
    ]);
    expect(out).toEqual({ imageid: config, digest: manifest, metadata: metadataFile, 'cache-hit-ratio': '0.5' });
    expect(JSON.parse(out.metadata!)['containerimage.descriptor']).toEqual(descriptor);
  });

  it('takes the manifest digest as the image ID when there is no config digest; none without a file', () => {
    expect(stepOutputs({ 'containerimage.digest': manifest }, []).imageid).toBe(manifest);
    expect(stepOutputs(parseMetadata(undefined), [])).toEqual({ 'cache-hit-ratio': '0' });
    expect(parseMetadata('null')).toBeUndefined();
    expect(stepOutputs(parseMetadata('{}'), [])).toEqual({ metadata: '{}', 'cache-hit-ratio': '0' });
  });

  it('refuses a metadata file that is not a JSON object', () => {
    expect(() => parseMetadata('{')).toThrow("the build's metadata file is not JSON");
    expect(() => parseMetadata('[1]')).toThrow("the build's metadata file holds no JSON object");
  });
});

describe('$GITHUB_OUTPUT text', () => {
  it('writes each output between a delimiter of its own, multi-line values whole', () => {
    let n = 0;
    const text = outputFileText({ digest: manifest, metadata: '{\n  "a": 1\n}' }, () => `ghadelimiter_${++n}`);
    expect(text).toBe(`digest<<ghadelimiter_1\n${manifest}\nghadelimiter_1\nmetadata<<ghadelimiter_2\n{\n  "a": 1\n}\nghadelimiter_2\n`);
  });

  it('takes a random delimiter by default, and refuses a value holding it', () => {
    const text = outputFileText({ 'cache-hit-ratio': '1' });
    expect(text).toMatch(/^cache-hit-ratio<<(ghadelimiter_[0-9a-f-]{36})\n1\n\1\n$/);
    expect(() => outputFileText({ x: 'a EOF b' }, () => 'EOF')).toThrow('output x: its value holds the delimiter EOF');
  });
});
