// The non-distributable rule shared by the registry client (what a push leaves out, what a pull
// fetches from urls) and the exporter (what a layout may lack): containerd's prefix rule.
import { describe, expect, it } from 'vitest';
import { isNondistributable, layerCompression, MediaType } from './index.js';

describe('isNondistributable', () => {
  it('holds for every OCI nondistributable and Docker foreign type, whatever the compression', () => {
    const named = [MediaType.ociNondistributable, MediaType.ociNondistributableGzip, MediaType.ociNondistributableZstd, MediaType.dockerForeignLayer, MediaType.dockerForeignLayerGzip];
    for (const t of named) expect(isNondistributable(t), t).toBe(true);
    // A compression this build cannot read is still foreign: a push must not send it either.
    const bzip2 = 'application/vnd.oci.image.layer.nondistributable.v1.tar+bzip2';
    expect(isNondistributable(bzip2)).toBe(true);
    expect(layerCompression(bzip2)).toBeUndefined();
  });

  it('is false for every other media type named', () => {
    const others = Object.values(MediaType).filter((t) => !t.includes('nondistributable') && !t.includes('foreign'));
    expect(others.length).toBeGreaterThan(8);
    for (const t of others) expect(isNondistributable(t), t).toBe(false);
  });
});
